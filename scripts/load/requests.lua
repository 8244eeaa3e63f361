-- wrk script for scripts/load/run: the body of each request, by WORKLOAD:
--   assign   {"unit": a new unit}
--   batch    {"units": [BATCH new units]}  (units/s = requests/s x BATCH)
--   outcome  {"unit": a unit never assigned, "value": 1}  (tallied as
--            unknown_unit and journaled like any outcome)
--   returning {"unit": one of POOL units, in turn}  (steady state: after the
--            first pass every request is a unit coming back in its window)
local workload = os.getenv("WORKLOAD") or "assign"
local batch = tonumber(os.getenv("BATCH") or "1000")
local pool = tonumber(os.getenv("POOL") or "100000")
local counter = 0
local threads = {}
function setup(thread)
  thread:set("id", #threads)
  table.insert(threads, thread)
end
local function unit()
  counter = counter + 1
  if workload == "returning" then
    return string.format('"r%d-%d"', id, counter % pool)
  end
  return string.format('"%s%d-%d"', workload, id, counter)
end
request = function()
  local body
  if workload == "batch" then
    local units = {}
    for i = 1, batch do units[i] = '{"unit":' .. unit() .. '}' end
    body = '{"units":[' .. table.concat(units, ",") .. ']}'
  elseif workload == "outcome" then
    body = '{"unit":' .. unit() .. ',"value":1}'
  else
    body = '{"unit":' .. unit() .. '}'
  end
  return wrk.format("POST", nil, {["Content-Type"] = "application/json"}, body)
end
