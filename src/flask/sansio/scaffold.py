"""What apps and blueprints share, under Flask 3's ``flask.sansio`` path.

The class and functions are :mod:`flask.scaffold`'s own (the same objects),
so ``isinstance`` checks and overrides agree whichever path an extension
imports. The type variables are the ones extensions annotate their own
decorators with (``T_route`` and friends).
"""

from __future__ import annotations

import typing as t

from .. import typing as ft
from ..scaffold import _base_folder
from ..scaffold import _endpoint_from_view_func as _endpoint_from_view_func
from ..scaffold import find_package as find_package
from ..scaffold import Scaffold as Scaffold
from ..scaffold import setupmethod as setupmethod

__all__ = ["Scaffold", "setupmethod", "find_package", "_endpoint_from_view_func"]

T_after_request = t.TypeVar("T_after_request", bound=ft.AfterRequestCallable[t.Any])
T_before_request = t.TypeVar("T_before_request", bound=ft.BeforeRequestCallable)
T_error_handler = t.TypeVar("T_error_handler", bound=ft.ErrorHandlerCallable)
T_teardown = t.TypeVar("T_teardown", bound=ft.TeardownCallable)
T_template_context_processor = t.TypeVar(
    "T_template_context_processor", bound=ft.TemplateContextProcessorCallable
)
T_url_defaults = t.TypeVar("T_url_defaults", bound=ft.URLDefaultCallable)
T_url_value_preprocessor = t.TypeVar(
    "T_url_value_preprocessor", bound=ft.URLValuePreprocessorCallable
)
T_route = t.TypeVar("T_route", bound=ft.RouteCallable)

#: Pallets' name for the package-folder lookup that extensions import.
_find_package_path = _base_folder
