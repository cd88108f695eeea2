-- wrk script: POST /api/v1/orders with a unique client_order_id per request (thread id + counter),
-- so every 201 is one stored order. Used for the "sustained" figure in README.md's Reliability
-- section, against a running stack (docker compose, or tests/deploy/stack.py's run_stack()):
--
--   COMANDA_TOKEN=<access token> COMANDA_PRODUCT=<product id> \
--   wrk -t2 -c1000 -d15s --timeout 34s --latency -s bench/wrk_orders.lua http://127.0.0.1:8080/api/v1/orders
--
-- A clean run prints no "Socket errors" and no "Non-2xx or 3xx responses" line.
local threads = 0
local run = tostring(os.time())

function setup(thread)
  threads = threads + 1
  thread:set("tid", threads)
end

local counter = 0
local token = os.getenv("COMANDA_TOKEN")
local product = os.getenv("COMANDA_PRODUCT")

function request()
  counter = counter + 1
  local body = string.format(
    '{"client_order_id":"wrk-%s-%s-%d","customer_name":"Mesa","items":[{"product_id":%s,"quantity":1}]}',
    run, tid, counter, product)
  return wrk.format("POST", nil, {["Content-Type"] = "application/json", ["Authorization"] = "Bearer " .. token}, body)
end
