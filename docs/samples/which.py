import importlib.metadata

import flask

# The distribution is "Flask" with a plain version number, so pip and
# extensions see a Flask 3.1 release; this attribute tells the two apart.
implementation = getattr(flask, "__implementation__", "pallets")
print(f"Flask {importlib.metadata.version('flask')} ({implementation})")
