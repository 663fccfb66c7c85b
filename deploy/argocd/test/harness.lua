-- Evaluates the Argo CD health scripts of deploy/argocd/ the way Argo CD does, on JSON
-- objects, and compares the result with what is expected. Runs on Lua 5.1 to 5.4 (Argo CD
-- itself runs gopher-lua, a Lua 5.1). Usually started by run.sh, which picks the interpreter
-- and the fixture files:
--
--   lua harness.lua --scripts DIR [--snippet FILE] FIXTURE.json...
--       each fixture is {"kind": "KafkaConnector", "object": {...}, "expect": "Healthy",
--       "messageContains": "optional substring", "description": "optional"}
--   lua harness.lua --scripts DIR --object FILE|- [--kind KIND] --expect STATUS [--message-contains S]
--       one object, e.g. `kubectl get kctr NAME -o json`; a List (`kubectl get kctr -o json`)
--       checks every item. KIND defaults to the object's own kind.
--
-- Prints one line per case and then "N passed, N failed"; exits 1 on any failure, 2 on a
-- usage error. Set KCO_LUA_PURE_JSON=1 (or pass --pure-json) to use the built-in JSON decoder
-- even when lua-cjson is installed.
--
-- Like Argo CD: the object is the global `obj`, JSON null is nil, integral numbers print
-- without ".0", and the script sees only the base and table libraries (custom health
-- scripts run without string, math, io; `("x"):upper()` fails too).

local VALID = { Healthy = true, Progressing = true, Degraded = true, Suspended = true, Missing = true, Unknown = true }

local function die(msg)
  io.stderr:write("harness.lua: " .. msg .. "\n")
  os.exit(2)
end

---------------------------------------------------------------------------------------------
-- JSON: lua-cjson when present, else a small decoder (strict enough for kubectl output).

local NULL = {}

local function pure_decode(s)
  local pos = 1
  local function fail(msg)
    error(string.format("invalid JSON: %s at byte %d", msg, pos), 0)
  end
  local function skip()
    pos = s:find("[^ \t\r\n]", pos) or (#s + 1)
  end
  local function utf8_char(cp)
    if cp < 0x80 then
      return string.char(cp)
    elseif cp < 0x800 then
      return string.char(0xC0 + math.floor(cp / 0x40), 0x80 + cp % 0x40)
    elseif cp < 0x10000 then
      return string.char(0xE0 + math.floor(cp / 0x1000), 0x80 + math.floor(cp / 0x40) % 0x40, 0x80 + cp % 0x40)
    end
    return string.char(0xF0 + math.floor(cp / 0x40000), 0x80 + math.floor(cp / 0x1000) % 0x40,
      0x80 + math.floor(cp / 0x40) % 0x40, 0x80 + cp % 0x40)
  end
  local escapes = { ['"'] = '"', ["\\"] = "\\", ["/"] = "/", b = "\b", f = "\f", n = "\n", r = "\r", t = "\t" }
  local value

  local function str()
    pos = pos + 1
    local buf = {}
    while true do
      local c = s:sub(pos, pos)
      if c == "" then
        fail("unterminated string")
      elseif c == '"' then
        pos = pos + 1
        return table.concat(buf)
      elseif c == "\\" then
        local e = s:sub(pos + 1, pos + 1)
        if e == "u" then
          local hex = s:sub(pos + 2, pos + 5)
          if not hex:match("^%x%x%x%x$") then
            fail("bad \\u escape")
          end
          local cp = tonumber(hex, 16)
          pos = pos + 6
          if cp >= 0xD800 and cp <= 0xDBFF and s:sub(pos, pos + 1) == "\\u" then
            local lo = tonumber(s:sub(pos + 2, pos + 5), 16)
            if lo ~= nil and lo >= 0xDC00 and lo <= 0xDFFF then
              cp = 0x10000 + (cp - 0xD800) * 0x400 + (lo - 0xDC00)
              pos = pos + 6
            end
          end
          buf[#buf + 1] = utf8_char(cp)
        elseif escapes[e] ~= nil then
          buf[#buf + 1] = escapes[e]
          pos = pos + 2
        else
          fail("bad escape \\" .. e)
        end
      else
        local stop = s:find('["\\]', pos) or (#s + 1)
        buf[#buf + 1] = s:sub(pos, stop - 1)
        pos = stop
      end
    end
  end

  local function num()
    local text = s:match("^-?%d+", pos)
    if text == nil then
      fail("unexpected character '" .. s:sub(pos, pos) .. "'")
    end
    local frac = s:match("^%.%d+", pos + #text)
    if frac then
      text = text .. frac
    end
    local exp = s:match("^[eE][-+]?%d+", pos + #text)
    if exp then
      text = text .. exp
    end
    pos = pos + #text
    return tonumber(text)
  end

  local function literal(word, v)
    if s:sub(pos, pos + #word - 1) ~= word then
      fail("unexpected character '" .. s:sub(pos, pos) .. "'")
    end
    pos = pos + #word
    return v
  end

  value = function()
    skip()
    local c = s:sub(pos, pos)
    if c == "{" then
      pos = pos + 1
      local t = {}
      skip()
      if s:sub(pos, pos) == "}" then
        pos = pos + 1
        return t
      end
      while true do
        skip()
        if s:sub(pos, pos) ~= '"' then
          fail("expected a key")
        end
        local k = str()
        skip()
        if s:sub(pos, pos) ~= ":" then
          fail("expected ':'")
        end
        pos = pos + 1
        t[k] = value()
        skip()
        local d = s:sub(pos, pos)
        pos = pos + 1
        if d == "}" then
          return t
        elseif d ~= "," then
          pos = pos - 1
          fail("expected ',' or '}'")
        end
      end
    elseif c == "[" then
      pos = pos + 1
      local t = {}
      skip()
      if s:sub(pos, pos) == "]" then
        pos = pos + 1
        return t
      end
      while true do
        t[#t + 1] = value()
        skip()
        local d = s:sub(pos, pos)
        pos = pos + 1
        if d == "]" then
          return t
        elseif d ~= "," then
          pos = pos - 1
          fail("expected ',' or ']'")
        end
      end
    elseif c == '"' then
      return str()
    elseif c == "t" then
      return literal("true", true)
    elseif c == "f" then
      return literal("false", false)
    elseif c == "n" then
      return literal("null", NULL)
    elseif c == "" then
      fail("unexpected end")
    end
    return num()
  end

  local v = value()
  skip()
  if pos <= #s then
    fail("trailing characters")
  end
  return v
end

local decode, decoder_name = pure_decode, "built-in"
local force_pure = os.getenv("KCO_LUA_PURE_JSON") == "1"
for _, a in ipairs(arg) do
  if a == "--pure-json" then
    force_pure = true
  end
end
if not force_pure then
  local ok, cjson = pcall(require, "cjson")
  if ok then
    NULL = cjson.null
    decoder_name = "lua-cjson"
    decode = function(s)
      local ok2, v = pcall(cjson.decode, s)
      if not ok2 then
        error("invalid JSON: " .. tostring(v), 0)
      end
      return v
    end
  end
end

-- As Argo CD hands objects to Lua: null is nil, integral numbers are integers (Lua 5.3+
-- would print 3.0 where gopher-lua prints 3).
local tointeger = math.tointeger
local function normalize(v)
  if v == NULL then
    return nil
  elseif type(v) == "table" then
    local t = {}
    for k, x in pairs(v) do
      t[k] = normalize(x)
    end
    return t
  elseif type(v) == "number" and tointeger ~= nil then
    return tointeger(v) or v
  end
  return v
end

local function read_file(path)
  local f, err
  if path == "-" then
    f = io.stdin
  else
    f, err = io.open(path, "rb")
    if f == nil then
      error(err, 0)
    end
  end
  local s = f:read("*a")
  if f ~= io.stdin then
    f:close()
  end
  return s
end

---------------------------------------------------------------------------------------------
-- Scripts and the sandbox.

local KINDS = {
  kafkaconnector = "KafkaConnector", kafkaconnectors = "KafkaConnector", kctr = "KafkaConnector",
  kafkaconnectcluster = "KafkaConnectCluster", kafkaconnectclusters = "KafkaConnectCluster", kcc = "KafkaConnectCluster",
}

local function canonical_kind(kind)
  if type(kind) ~= "string" then
    return nil
  end
  local k = kind:gsub("^kafkaconnect%.dev_", ""):gsub("%.kafkaconnect%.dev$", "")
  return KINDS[k:lower()]
end

local function script_path(dir, kind)
  return dir .. "/kafkaconnect.dev_" .. kind .. ".lua"
end

local function load_sandboxed(path, env)
  if setfenv ~= nil then -- Lua 5.1
    local f, err = loadfile(path)
    if f == nil then
      return nil, err
    end
    setfenv(f, env)
    return f
  end
  return loadfile(path, "t", env)
end

-- Base library (minus loading and file access) and table: what Argo CD opens for custom
-- health scripts (it also opens package and a restricted os, which these scripts do not use).
local function sandbox(o)
  local env = {
    assert = assert, error = error, ipairs = ipairs, next = next, pairs = pairs, pcall = pcall,
    print = print, rawequal = rawequal, rawget = rawget, rawset = rawset, select = select,
    setmetatable = setmetatable, getmetatable = getmetatable, tonumber = tonumber,
    tostring = tostring, type = type, unpack = unpack or table.unpack, xpcall = xpcall,
    _VERSION = _VERSION,
    table = { concat = table.concat, insert = table.insert, remove = table.remove, sort = table.sort },
    obj = o,
  }
  env._G = env
  return env
end

-- Runs the health script at `path` on object `o`: returns status, message or nil, error.
local function evaluate(path, o)
  local f, err = load_sandboxed(path, sandbox(o))
  if f == nil then
    return nil, "cannot load " .. path .. ": " .. tostring(err)
  end
  -- No string methods either while the script runs.
  local string_mt = getmetatable("")
  local string_index = string_mt.__index
  string_mt.__index = nil
  local ok, hs = pcall(f)
  string_mt.__index = string_index
  if not ok then
    return nil, "script error: " .. tostring(hs)
  end
  if type(hs) ~= "table" then
    return nil, "script returned " .. type(hs) .. ", not a table"
  end
  if not VALID[hs.status] then
    return nil, "script returned the invalid status " .. tostring(hs.status)
  end
  if hs.message ~= nil and type(hs.message) ~= "string" then
    return nil, "script returned a " .. type(hs.message) .. " message"
  end
  return hs.status, hs.message or ""
end

---------------------------------------------------------------------------------------------
-- Cases.

local passed, failed = 0, 0

local function report(ok, name, text)
  if ok then
    passed = passed + 1
    print("ok   " .. name .. ": " .. text)
  else
    failed = failed + 1
    print("FAIL " .. name .. ": " .. text)
  end
end

-- One object against one expectation.
local function check(name, scripts, kind, o, expect, contains)
  if type(o) ~= "table" then
    return report(false, name, "no object")
  end
  local k = canonical_kind(kind or o.kind)
  if k == nil then
    return report(false, name, "unknown kind " .. tostring(kind or o.kind) .. " (KafkaConnector or KafkaConnectCluster)")
  end
  if not VALID[expect] then
    return report(false, name, "invalid expectation " .. tostring(expect))
  end
  local status, message = evaluate(script_path(scripts, k), o)
  if status == nil then
    return report(false, name, message)
  end
  if status ~= expect then
    return report(false, name, "expected " .. expect .. ", got " .. status .. " (" .. message .. ")")
  end
  if contains ~= nil and not message:find(contains, 1, true) then
    return report(false, name, status .. ", but the message \"" .. message .. "\" lacks \"" .. contains .. "\"")
  end
  report(true, name, status .. " (" .. message .. ")")
end

-- `kubectl get -o json` of one object, or of a List: every item.
local function check_object(label, scripts, kind, o, expect, contains)
  if type(o) == "table" and o.kind == "List" and type(o.items) == "table" then
    if #o.items == 0 then
      return report(false, label, "the List has no items")
    end
    for i, item in ipairs(o.items) do
      local md = item.metadata or {}
      local id = tostring(md.namespace or "") .. "/" .. tostring(md.name or ("#" .. i))
      check(label .. " " .. id, scripts, kind, item, expect, contains)
    end
  else
    check(label, scripts, kind, o, expect, contains)
  end
end

-- The argocd-cm snippet must carry the scripts verbatim: a `key: |` block scalar, indented.
local function check_snippet(snippet, scripts)
  local ok, text = pcall(read_file, snippet)
  if not ok then
    return report(false, "snippet", text)
  end
  local lines = {}
  for line in (text .. "\n"):gmatch("([^\n]*)\n") do
    lines[#lines + 1] = line
  end
  for _, kind in ipairs({ "KafkaConnector", "KafkaConnectCluster" }) do
    local key = "resource.customizations.health.kafkaconnect.dev_" .. kind
    local name = "snippet " .. key
    local start
    for i, line in ipairs(lines) do
      if line:match("^%s*" .. key:gsub("%.", "%%.") .. ":%s*|%s*$") then
        start = i
        break
      end
    end
    if start == nil then
      report(false, name, "no `" .. key .. ": |` in " .. snippet)
    else
      local keyIndent = #lines[start]:match("^(%s*)")
      local body, indent = {}, nil
      for i = start + 1, #lines do
        local line = lines[i]
        local lead = #line:match("^(%s*)")
        if line:match("^%s*$") then
          body[#body + 1] = ""
        elseif lead <= keyIndent then
          break
        else
          indent = indent or lead
          if lead < indent then
            break
          end
          body[#body + 1] = line:sub(indent + 1)
        end
      end
      while #body > 0 and body[#body] == "" do
        body[#body] = nil
      end
      local embedded = table.concat(body, "\n") .. "\n"
      local okf, file = pcall(read_file, script_path(scripts, kind))
      if not okf then
        report(false, name, file)
      elseif embedded ~= file:match("^(.-)\n*$") .. "\n" then
        report(false, name, "differs from " .. script_path(scripts, kind) .. ": copy the script into the snippet again")
      else
        report(true, name, "same as " .. script_path(scripts, kind))
      end
    end
  end
end

---------------------------------------------------------------------------------------------
-- Command line.

local scripts, snippet, object, kind, expect, contains
local fixtures = {}
local i = 1
while i <= #arg do
  local a = arg[i]
  local function value()
    i = i + 1
    if arg[i] == nil then
      die(a .. " needs a value")
    end
    return arg[i]
  end
  if a == "--scripts" then
    scripts = value()
  elseif a == "--snippet" then
    snippet = value()
  elseif a == "--object" then
    object = value()
  elseif a == "--kind" then
    kind = value()
  elseif a == "--expect" then
    expect = value()
  elseif a == "--message-contains" then
    contains = value()
  elseif a == "--pure-json" then
    -- handled above
  elseif a:sub(1, 2) == "--" then
    die("unknown option " .. a)
  else
    fixtures[#fixtures + 1] = a
  end
  i = i + 1
end

if scripts == nil then
  die("--scripts DIR is required")
end
if object ~= nil then
  if expect == nil then
    die("--object needs --expect STATUS")
  end
  if #fixtures > 0 then
    die("--object takes no fixture files")
  end
else
  if kind ~= nil or expect ~= nil or contains ~= nil then
    die("--kind, --expect and --message-contains go with --object")
  end
  if #fixtures == 0 and snippet == nil then
    die("no fixture files")
  end
end
print("# " .. _VERSION .. ", JSON: " .. decoder_name .. ", scripts: " .. scripts)

local function display(path)
  if path == "-" then
    return "stdin"
  end
  return path
end

if object ~= nil then
  local ok, o = pcall(function()
    return normalize(decode(read_file(object)))
  end)
  if not ok then
    report(false, display(object), tostring(o))
  else
    check_object(display(object), scripts, kind, o, expect, contains)
  end
else
  if snippet ~= nil then
    check_snippet(snippet, scripts)
  end
  for _, path in ipairs(fixtures) do
    local name = path:match("([^/]+)$")
    local ok, f = pcall(function()
      return normalize(decode(read_file(path)))
    end)
    if not ok then
      report(false, name, tostring(f))
    elseif type(f) ~= "table" or type(f.object) ~= "table" then
      report(false, name, "a fixture is {\"kind\": ..., \"object\": {...}, \"expect\": ...}")
    else
      if type(f.description) == "string" then
        name = name .. " (" .. f.description .. ")"
      end
      check_object(name, scripts, f.kind, f.object, f.expect, f.messageContains)
    end
  end
end

print(passed .. " passed, " .. failed .. " failed")
os.exit(failed == 0 and 0 or 1)
