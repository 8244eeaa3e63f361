-- wrk script: POST .../assign_batch, BATCH new units per request (units/s =
-- requests/s x BATCH).
local batch = tonumber(os.getenv("BATCH") or "1000")
local counter = 0
local threads = {}
function setup(thread)
  thread:set("id", #threads)
  table.insert(threads, thread)
end
request = function()
  local units = {}
  for i = 1, batch do
    counter = counter + 1
    units[i] = string.format('{"unit":"b%d-%d"}', id, counter)
  end
  return wrk.format("POST", nil, {["Content-Type"] = "application/json"},
                    '{"units":[' .. table.concat(units, ",") .. ']}')
end
