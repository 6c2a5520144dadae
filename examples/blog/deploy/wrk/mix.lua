-- Mixed blog traffic for wrk: pages, the JSON API and writes.
--
-- Per thread, in turn: the index page, a post's page (which records it in
-- the session: a session write per request), the JSON list, and a POST
-- /api/posts with a bearer token. Environment:
--   BLOG_TOKEN    API token for the writes (no writes without it)
--   BLOG_COOKIE   Cookie header to send (a logged-in session), optional
--   BLOG_POST_IDS comma-separated post ids to cycle through on detail pages
--   BLOG_LOG_DIR  if set, each thread writes "<status> <new post id|->" per
--                 response to wrk-<thread>.log there
--   BLOG_MAX      stop each thread after this many responses (0: no limit)

local next_id = 1
function setup(thread)
  thread:set("id", next_id)
  next_id = next_id + 1
end

function init(args)
  token = os.getenv("BLOG_TOKEN")
  cookie = os.getenv("BLOG_COOKIE")
  posts = {}
  for n in string.gmatch(os.getenv("BLOG_POST_IDS") or "1", "%d+") do
    table.insert(posts, n)
  end
  max = tonumber(os.getenv("BLOG_MAX") or "0")
  local dir = os.getenv("BLOG_LOG_DIR")
  if dir then
    log = io.open(dir .. "/wrk-" .. id .. ".log", "w")
    log:setvbuf("line")
  end
  sent = 0
  seen = 0
end

local function headers(extra)
  local h = extra or {}
  if cookie then h["Cookie"] = cookie end
  return h
end

function request()
  sent = sent + 1
  local kind = sent % 4
  if kind == 0 and token then
    local body = string.format('{"title": "wrk %d-%d", "body": "written under load"}', id, sent)
    return wrk.format("POST", "/api/posts", {
      ["Content-Type"] = "application/json",
      ["Authorization"] = "Bearer " .. token,
    }, body)
  elseif kind == 1 then
    return wrk.format("GET", "/", headers())
  elseif kind == 2 then
    return wrk.format("GET", "/posts/" .. posts[math.floor(sent / 4) % #posts + 1], headers())
  else
    return wrk.format("GET", "/api/posts")
  end
end

function response(status, hdrs, body)
  seen = seen + 1
  if log then
    local new_id = "-"
    if status == 201 then new_id = string.match(body, '"id":%s*(%d+)') or "?" end
    log:write(status, " ", new_id, "\n")
  end
  if max > 0 and seen >= max then
    if log then log:flush() end
    wrk.thread:stop()
  end
end
