-- wrk script: POST .../outcomes for units that were never assigned (each is
-- tallied as unknown_unit and journaled like any outcome).
local counter = 0
local threads = {}
function setup(thread)
  thread:set("id", #threads)
  table.insert(threads, thread)
end
request = function()
  counter = counter + 1
  return wrk.format("POST", nil, {["Content-Type"] = "application/json"},
                    string.format('{"unit":"o%d-%d","value":1}', id, counter))
end
