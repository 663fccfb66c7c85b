-- Argo CD health check for kafkaconnect.dev/v1alpha1 KafkaConnectCluster (kafka-connect-operator).
-- Install: argocd-cm key resource.customizations.health.kafkaconnect.dev_KafkaConnectCluster
-- (see argocd-cm-snippet.yaml). Tests: deploy/argocd/test/run.sh.
--
-- kstatus-like, in this order:
--   Progressing  no status yet, or the operator has not observed metadata.generation
--                (status.observedGeneration, or the Ready condition's, is older);
--   Degraded     Stalled=True, with its message;
--   Healthy      Ready=True: the Connect REST API answers;
--   Progressing  Ready=False with a reason that means "not there yet" (Progressing, Starting,
--                ClusterInUse: being deleted, waiting for its KafkaConnectors),
--                or Ready=Unknown;
--   Degraded     Ready=False with any other reason: the REST API does not answer or refuses
--                us (ConnectUnavailable, Unauthorized, MissingReference, InvalidTls...).
-- FAILED connectors do not make the cluster unhealthy (they have their own KafkaConnector
-- health, or are not managed at all); a Healthy message mentions them.
--
-- Argo CD runs custom health scripts without Lua's string and math libraries (only base and
-- table, unless useOpenLibs), so this script uses neither.

local hs = {}

-- Ready=False reasons that mean "on its way" rather than "broken".
local progressingReasons = { Progressing = true, Starting = true, ClusterInUse = true }

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
local waiting = "waiting for the operator to observe this KafkaConnectCluster"
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

local stalled = condition(status, "Stalled")
if stalled ~= nil and stalled.status == "True" then
  hs.status = "Degraded"
  hs.message = describe(stalled, "stalled")
  return hs
end

if ready.status == "True" then
  local message = describe(ready, "ready")
  local details = {}
  if status.version ~= nil and status.version ~= "" then
    table.insert(details, "Kafka Connect " .. status.version)
  end
  if status.connectors ~= nil and status.connectors.failed ~= nil and status.connectors.failed > 0 then
    table.insert(details, tostring(status.connectors.failed) .. " of " .. tostring(status.connectors.total) .. " connectors FAILED")
  end
  if #details > 0 then
    message = message .. " (" .. table.concat(details, "; ") .. ")"
  end
  hs.status = "Healthy"
  hs.message = message
  return hs
end

if ready.status == "False" and not progressingReasons[ready.reason] then
  hs.status = "Degraded"
  hs.message = describe(ready, "the Connect REST API does not answer")
  return hs
end

hs.status = "Progressing"
hs.message = describe(ready, "waiting for the Connect REST API")
return hs
