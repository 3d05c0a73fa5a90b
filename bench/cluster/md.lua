-- wrk script for bench/cluster: POST /md (HTTP mode) on a distinct page of
-- bench/distributed/scaling_site.py every request.
-- wrk ... -s md.lua URL -- SITE_ORIGIN RUN   (RUN keeps the pages of each run distinct)
local counter, threads = 0, 0
function setup(thread)
  thread:set("id", threads)
  threads = threads + 1
end
function init(args)
  origin = args[1]
  base = (tonumber(args[2]) * 16 + id) * 100000
end
function request()
  counter = counter + 1
  local body = string.format('{"url":"%s/p%d","render":"never"}', origin, base + counter)
  return wrk.format("POST", "/md", {["Content-Type"] = "application/json"}, body)
end
