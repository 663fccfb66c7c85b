-- Argo CD health check for kafkaconnect.dev/v1alpha1 KafkaConnector (kafka-connect-operator).
-- Install: argocd-cm key resource.customizations.health.kafkaconnect.dev_KafkaConnector
-- (see argocd-cm-snippet.yaml). Tests: deploy/argocd/test/run.sh.
--
-- kstatus-like, in this order:
--   Progressing  no status yet, or the operator has not observed metadata.generation
--                (status.observedGeneration, or the Ready condition's, is older);
--   Suspended    Ready=False with reason ReconciliationPaused (the pause-reconciliation
--                annotation is set: the operator writes nothing until it is removed);
--   Degraded     Stalled=True: the operator will not get further until someone changes
--                something (InvalidConfig, AutoRestartExhausted, a FAILED connector or task
--                without auto-restart...), with the Stalled condition's message;
--   Healthy      Ready=True, including spec.state paused or stopped: that is the state asked for;
--   Degraded     the connector or a task is FAILED (auto-restart is on and retrying);
--   Progressing  otherwise, with the Ready condition's message.
--
-- Argo CD runs custom health scripts without Lua's string and math libraries (only base and
-- table, unless useOpenLibs), so this script uses neither.

local hs = {}

local function condition(status, conditionType)
  if status.conditions == nil then
    return nil
  end
  for _, c in ipairs(status.conditions) do
    if c.type == conditionType then
      return c
    end
  end
  return nil
end

-- A condition's message, else its reason, else the fallback.
local function describe(c, fallback)
  if c ~= nil and c.message ~= nil and c.message ~= "" then
    return c.message
  end
  if c ~= nil and c.reason ~= nil and c.reason ~= "" then
    return c.reason
  end
  return fallback
end

local generation = nil
if obj.metadata ~= nil then
  generation = obj.metadata.generation
end
local waiting = "waiting for the operator to observe this KafkaConnector"
if generation ~= nil then
  waiting = "waiting for the operator to observe generation " .. tostring(generation)
end

local status = obj.status
if status == nil then
  hs.status = "Progressing"
  hs.message = waiting
  return hs
end
if generation ~= nil and status.observedGeneration ~= generation then
  hs.status = "Progressing"
  hs.message = waiting
  return hs
end
local ready = condition(status, "Ready")
if ready == nil or (generation ~= nil and ready.observedGeneration ~= nil and ready.observedGeneration < generation) then
  hs.status = "Progressing"
  hs.message = waiting
  return hs
end

-- The pause-reconciliation annotation: the operator leaves the connector alone on purpose.
if ready.status == "False" and ready.reason == "ReconciliationPaused" then
  hs.status = "Suspended"
  hs.message = describe(ready, "reconciliation paused")
  return hs
end

local stalled = condition(status, "Stalled")
if stalled ~= nil and stalled.status == "True" then
  hs.status = "Degraded"
  hs.message = describe(stalled, "stalled")
  return hs
end

if ready.status == "True" then
  hs.status = "Healthy"
  hs.message = describe(ready, "ready")
  return hs
end

local failures = {}
if status.state == "FAILED" then
  table.insert(failures, "connector is FAILED")
end
local failedTasks = {}
if status.tasks ~= nil then
  for _, t in ipairs(status.tasks) do
    if t.state == "FAILED" then
      table.insert(failedTasks, tostring(t.id))
    end
  end
end
if #failedTasks > 0 then
  table.insert(failures, "task(s) " .. table.concat(failedTasks, ", ") .. " FAILED")
end
if #failures > 0 then
  local message = table.concat(failures, "; ")
  if status.autoRestart ~= nil and status.autoRestart.count ~= nil then
    message = message .. " (automatic restarts so far: " .. tostring(status.autoRestart.count) .. ")"
  end
  hs.status = "Degraded"
  hs.message = message
  return hs
end

hs.status = "Progressing"
hs.message = describe(ready, "waiting for the connector to be ready")
return hs
