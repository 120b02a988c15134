-- wrk script for the manifest rows: the method comes from BENCH_METHOD (GET or HEAD);
-- every response that is not 200 is counted, and done() prints one JSON line for the harness.
wrk.method = os.getenv("BENCH_METHOD") or "GET"

local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  responses = 0
  non200 = 0
  first_bad = 0
end

function response(status, headers, body)
  responses = responses + 1
  if status ~= 200 then
    non200 = non200 + 1
    if first_bad == 0 then first_bad = status end
  end
end

function done(summary, latency, requests)
  local total, bad, first = 0, 0, 0
  for _, thread in ipairs(threads) do
    total = total + thread:get("responses")
    bad = bad + thread:get("non200")
    if first == 0 then first = thread:get("first_bad") end
  end
  local e = summary.errors
  io.write(string.format(
    'BENCH_RESULT {"requests":%d,"duration_us":%d,"responses":%d,"non200":%d,"first_bad_status":%d,' ..
    '"connect_errors":%d,"read_errors":%d,"write_errors":%d,"timeouts":%d,"p50_us":%d,"p99_us":%d}\n',
    summary.requests, summary.duration, total, bad, first,
    e.connect, e.read, e.write, e.timeout, latency:percentile(50), latency:percentile(99)))
end
