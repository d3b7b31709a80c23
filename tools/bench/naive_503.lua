-- What a user would write instead of diag503: a Lua post-dissector matching SIP 503s to requests.
-- SPDX-License-Identifier: GPL-2.0-or-later
--
-- Usage: tshark -r trace.pcapng -q -X lua_script:tools/bench/naive_503.lua
--
-- For every SIP message it keys the transaction by Call-ID + CSeq number in a Lua table; on a
-- 503 it links the request frame and the method, reads Retry-After and tags it none / short
-- (<= 60 s) / medium / long (>= 300 s), the thresholds diag503 uses.  Fields: naive503,
-- naive503.request_in, naive503.method, naive503.retry_after, naive503.retry_class.  At the end
-- tshark prints the 503s per Retry-After class (a tap on naive503.retry_class).

local naive = Proto("naive503", "Naive SIP 503 matcher (Lua)")

local f_request_in = ProtoField.framenum("naive503.request_in", "Request in", base.NONE, frametype.REQUEST)
local f_method = ProtoField.string("naive503.method", "Method")
local f_retry_after = ProtoField.uint32("naive503.retry_after", "Retry-After (s)")
local f_retry_class = ProtoField.string("naive503.retry_class", "Retry-After class")
naive.fields = { f_request_in, f_method, f_retry_after, f_retry_class }

local sip_call_id = Field.new("sip.Call-ID")
local sip_cseq_seq = Field.new("sip.CSeq.seq")
local sip_cseq_method = Field.new("sip.CSeq.method")
local sip_method = Field.new("sip.Method")
local sip_status = Field.new("sip.Status-Code")
local sip_retry_after = Field.new("sip.Retry-After")

local SHORT_RETRY_AFTER = 60
local LONG_RETRY_AFTER = 300

-- transaction key -> frame number of its first request; forgotten when a file is (re)loaded
local requests = {}

function naive.init()
    requests = {}
end

local function retry_class(seconds)
    if seconds == nil then return "none" end
    if seconds <= SHORT_RETRY_AFTER then return "short" end
    if seconds >= LONG_RETRY_AFTER then return "long" end
    return "medium"
end

function naive.dissector(tvb, pinfo, tree)
    local call_ids = { sip_call_id() }
    if #call_ids == 0 then return end
    local seqs = { sip_cseq_seq() }
    local cseq_methods = { sip_cseq_method() }
    local methods = { sip_method() }
    local statuses = { sip_status() }
    local retry_afters = { sip_retry_after() }
    -- One frame may carry several SIP messages (TCP).  Naively: a frame without status codes
    -- holds requests; otherwise its messages are responses, in order.
    if #statuses == 0 then
        for index = 1, #call_ids do
            local key = call_ids[index].value .. "\0" .. tostring(seqs[index] and seqs[index].value)
            if requests[key] == nil then requests[key] = pinfo.number end
        end
        return
    end
    for index = 1, #statuses do
        if statuses[index].value == 503 and call_ids[index] ~= nil then
            local key = call_ids[index].value .. "\0" .. tostring(seqs[index] and seqs[index].value)
            local subtree = tree:add(naive, tvb(), "Naive 503 match")
            local request_frame = requests[key]
            if request_frame ~= nil then
                subtree:add(f_request_in, request_frame)
            end
            local method = cseq_methods[index]
            subtree:add(f_method, method and method.value or "")
            -- Retry-After is only known to belong to this 503 when the frame has one response
            local retry = (#statuses == 1) and retry_afters[1] or nil
            local seconds = retry and retry.value or nil
            if seconds ~= nil then subtree:add(f_retry_after, seconds) end
            subtree:add(f_retry_class, retry_class(seconds))
        end
    end
end

register_postdissector(naive)

-- The summary a user would print: 503s per Retry-After class.
local retry_class_field = Field.new("naive503.retry_class")
local tally = {}
local tap = Listener.new("frame", "naive503")

function tap.reset()
    tally = {}
end

function tap.packet(pinfo, tvb)
    for _, class in ipairs({ retry_class_field() }) do
        tally[class.value] = (tally[class.value] or 0) + 1
    end
end

function tap.draw()
    print("naive503: SIP 503 responses by Retry-After class")
    for _, class in ipairs({ "none", "short", "medium", "long" }) do
        print(string.format("  %-8s %d", class, tally[class] or 0))
    end
end
