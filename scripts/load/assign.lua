-- wrk script: POST .../assign, a new unit on every request.
local counter = 0
local threads = {}
function setup(thread)
  thread:set("id", #threads)
  table.insert(threads, thread)
end
request = function()
  counter = counter + 1
  return wrk.format("POST", nil, {["Content-Type"] = "application/json"},
                    string.format('{"unit":"a%d-%d"}', id, counter))
end
