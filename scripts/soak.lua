-- wrk script for scripts/soak.sh: POST /v1/triage with a rotating mix of vignette bodies,
-- counting every response that is not 2xx.
--
--   wrk -t2 -c128 -d60s -s scripts/soak.lua http://127.0.0.1:PORT -- BODY_FILE...
--
-- Each BODY_FILE holds one request body (JSON). Each thread starts at a different body so
-- the mix is spread evenly. `done` prints one line that soak.sh checks:
--   SOAK_RESULT requests=N non2xx=N connect=N read=N write=N timeout=N status=N
-- and the status codes that were not 2xx, if any.

local threads = {}
local counter = 0

function setup(thread)
   thread:set("id", counter)
   counter = counter + 1
   table.insert(threads, thread)
end

local requests = {}
local next_index = 1

function init(args)
   non2xx = 0
   statuses = {}
   local headers = {
      ["Content-Type"] = "application/json",
      ["Accept"] = "application/json",
   }
   for _, path in ipairs(args) do
      local file = assert(io.open(path, "rb"))
      local body = file:read("*a")
      file:close()
      table.insert(requests, wrk.format("POST", "/v1/triage", headers, body))
   end
   if #requests == 0 then
      error("soak.lua: pass at least one body file after --")
   end
   next_index = (id % #requests) + 1
end

function request()
   local r = requests[next_index]
   next_index = (next_index % #requests) + 1
   return r
end

function response(status, headers, body)
   if status < 200 or status > 299 then
      non2xx = non2xx + 1
      statuses[status] = (statuses[status] or 0) + 1
   end
end

function done(summary, latency, requests_stats)
   local bad = 0
   local codes = {}
   for _, thread in ipairs(threads) do
      bad = bad + thread:get("non2xx")
      local per_thread = thread:get("statuses")
      for code, n in pairs(per_thread) do
         codes[code] = (codes[code] or 0) + n
      end
   end
   local e = summary.errors
   io.write(string.format(
      "SOAK_RESULT requests=%d non2xx=%d connect=%d read=%d write=%d timeout=%d status=%d\n",
      summary.requests, bad, e.connect, e.read, e.write, e.timeout, e.status))
   for code, n in pairs(codes) do
      io.write(string.format("SOAK_STATUS %d %d\n", code, n))
   end
   io.write(string.format(
      "SOAK_LATENCY_US p50=%d p90=%d p99=%d p999=%d max=%d mean=%.0f\n",
      latency:percentile(50), latency:percentile(90), latency:percentile(99),
      latency:percentile(99.9), latency.max, latency.mean))
end
