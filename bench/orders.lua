-- wrk script for bench/http_bench.py: POST one order per request, each with its own client_order_id.
--
-- http_bench.py writes a small prelude defining PATH, HEADERS (a table), BODY (the JSON body
-- with a single %s where the client_order_id goes, every other % doubled), TAG (this run's
-- prefix of client_order_id) and IDS_FILE, then appends this file. Each thread counts the 201
-- answers and keeps their client_order_ids (read back from the answer's body); done() writes
-- the ids to IDS_FILE and prints one line `BENCH_JSON {...}` with the figures.

function setup(thread)
  nthreads = (nthreads or 0) + 1
  thread:set("tid", nthreads)
  threads = threads or {}
  table.insert(threads, thread)
end

function init(args)
  counter = 0
  n201 = 0
  ids = {}
  statuses = {}
end

function request()
  counter = counter + 1
  local id = TAG .. "-" .. tid .. "-" .. counter
  return wrk.format("POST", PATH, HEADERS, string.format(BODY, id))
end

function response(status, headers, body)
  if status == 201 then
    n201 = n201 + 1
    local id = string.match(body, '"client_order_id"%s*:%s*"([^"]+)"')
    if id then
      ids[#ids + 1] = id
    end
  else
    local key = tostring(status)
    statuses[key] = (statuses[key] or 0) + 1
  end
end

function done(summary, latency, requests)
  local total201 = 0
  local merged = {}
  local f = assert(io.open(IDS_FILE, "w"))
  for _, thread in ipairs(threads) do
    total201 = total201 + (thread:get("n201") or 0)
    for _, id in ipairs(thread:get("ids") or {}) do
      f:write(id, "\n")
    end
    for key, count in pairs(thread:get("statuses") or {}) do
      merged[key] = (merged[key] or 0) + count
    end
  end
  f:close()
  local parts = {}
  for key, count in pairs(merged) do
    parts[#parts + 1] = string.format('"%s": %d', key, count)
  end
  local e = summary.errors
  io.write(string.format(
    'BENCH_JSON {"requests": %d, "duration_us": %d, "n201": %d, "p50_us": %d, "p90_us": %d, "p99_us": %d, '
      .. '"max_us": %d, "connect": %d, "read": %d, "write": %d, "timeout": %d, "status": %d, "statuses": {%s}}\n',
    summary.requests, summary.duration, total201, latency:percentile(50), latency:percentile(90),
    latency:percentile(99), latency.max, e.connect, e.read, e.write, e.timeout, e.status, table.concat(parts, ", ")))
end
