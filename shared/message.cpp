#include "shared/message.hpp"

#include <algorithm>
#include <cstdio>
#include <variant>

#include "shared/bytes.hpp"
#include "shared/hidden.hpp"

namespace l2tp::wire {

namespace {

// Where the typed value of each IETF attribute lives in a ControlMessage.
// One map serves decoding, encoding and has(): the per-type switch exists once.
using FieldRef =
    std::variant<std::monostate, std::optional<uint8_t>*, std::optional<uint16_t>*,
                 std::optional<uint32_t>*, std::optional<uint64_t>*, std::optional<std::string>*,
                 std::optional<Bytes>*, std::optional<ResultCode>*, std::optional<ProtocolVersion>*,
                 std::optional<Q931Cause>*, std::optional<CallErrors>*, std::optional<Accm>*, bool*>;

FieldRef field_ref(ControlMessage& m, uint16_t type) {
  switch (static_cast<AvpType>(type)) {
    case AvpType::kMessageType: return std::monostate{};  // not a field: message_type
    case AvpType::kResultCode: return &m.result_code;
    case AvpType::kProtocolVersion: return &m.protocol_version;
    case AvpType::kFramingCapabilities: return &m.framing_capabilities;
    case AvpType::kBearerCapabilities: return &m.bearer_capabilities;
    case AvpType::kTieBreaker: return &m.tie_breaker;
    case AvpType::kFirmwareRevision: return &m.firmware_revision;
    case AvpType::kHostName: return &m.host_name;
    case AvpType::kVendorName: return &m.vendor_name;
    case AvpType::kAssignedTunnelId: return &m.assigned_tunnel_id;
    case AvpType::kReceiveWindowSize: return &m.receive_window_size;
    case AvpType::kChallenge: return &m.challenge;
    case AvpType::kQ931Cause: return &m.q931_cause;
    case AvpType::kChallengeResponse: return &m.challenge_response;
    case AvpType::kAssignedSessionId: return &m.assigned_session_id;
    case AvpType::kCallSerialNumber: return &m.call_serial_number;
    case AvpType::kMinimumBps: return &m.minimum_bps;
    case AvpType::kMaximumBps: return &m.maximum_bps;
    case AvpType::kBearerType: return &m.bearer_type;
    case AvpType::kFramingType: return &m.framing_type;
    case AvpType::kCalledNumber: return &m.called_number;
    case AvpType::kCallingNumber: return &m.calling_number;
    case AvpType::kSubAddress: return &m.sub_address;
    case AvpType::kTxConnectSpeed: return &m.tx_connect_speed;
    case AvpType::kPhysicalChannelId: return &m.physical_channel_id;
    case AvpType::kInitialReceivedLcpConfreq: return &m.initial_received_lcp_confreq;
    case AvpType::kLastSentLcpConfreq: return &m.last_sent_lcp_confreq;
    case AvpType::kLastReceivedLcpConfreq: return &m.last_received_lcp_confreq;
    case AvpType::kProxyAuthenType: return &m.proxy_authen_type;
    case AvpType::kProxyAuthenName: return &m.proxy_authen_name;
    case AvpType::kProxyAuthenChallenge: return &m.proxy_authen_challenge;
    case AvpType::kProxyAuthenId: return &m.proxy_authen_id;
    case AvpType::kProxyAuthenResponse: return &m.proxy_authen_response;
    case AvpType::kCallErrors: return &m.call_errors;
    case AvpType::kAccm: return &m.accm;
    case AvpType::kRandomVector: return &m.random_vector;
    case AvpType::kPrivateGroupId: return &m.private_group_id;
    case AvpType::kRxConnectSpeed: return &m.rx_connect_speed;
    case AvpType::kSequencingRequired: return &m.sequencing_required;
  }
  return std::monostate{};
}

template <class... Fs>
struct Overloaded : Fs... {
  using Fs::operator()...;
};
template <class... Fs>
Overloaded(Fs...) -> Overloaded<Fs...>;

bool field_present(const FieldRef& f) {
  return std::visit(Overloaded{[](std::monostate) { return false; },
                               [](bool* b) { return *b; },
                               [](auto* opt) { return opt->has_value(); }},
                    f);
}

std::string to_string(std::span<const uint8_t> v) { return std::string(v.begin(), v.end()); }

// Stores a value whose length the table already accepted.
void store_value(const FieldRef& f, std::span<const uint8_t> v) {
  const uint8_t* p = v.data();
  std::visit(
      Overloaded{
          [](std::monostate) {},
          [&](std::optional<uint8_t>* o) { *o = p[1]; },  // Proxy Authen ID: reserved, ID
          [&](std::optional<uint16_t>* o) { *o = load_be16(p); },
          [&](std::optional<uint32_t>* o) { *o = load_be32(p); },
          [&](std::optional<uint64_t>* o) { *o = load_be64(p); },
          [&](std::optional<std::string>* o) { *o = to_string(v); },
          [&](std::optional<Bytes>* o) { *o = Bytes(v.begin(), v.end()); },
          [&](std::optional<ResultCode>* o) {
            ResultCode rc;
            rc.result = load_be16(p);
            if (v.size() >= 4) {
              rc.error = load_be16(p + 2);
              rc.message = to_string(v.subspan(4));
            }
            *o = std::move(rc);
          },
          [&](std::optional<ProtocolVersion>* o) { *o = ProtocolVersion{p[0], p[1]}; },
          [&](std::optional<Q931Cause>* o) {
            *o = Q931Cause{load_be16(p), p[2], to_string(v.subspan(3))};
          },
          [&](std::optional<CallErrors>* o) {
            *o = CallErrors{load_be32(p + 2),  load_be32(p + 6),  load_be32(p + 10),
                            load_be32(p + 14), load_be32(p + 18), load_be32(p + 22)};
          },
          [&](std::optional<Accm>* o) { *o = Accm{load_be32(p + 2), load_be32(p + 6)}; },
          [](bool* b) { *b = true; },
      },
      f);
}

// Appends the value octets of a present field.
void append_value(const FieldRef& f, std::vector<uint8_t>& out) {
  ByteWriter w(out);
  std::visit(Overloaded{
                 [](std::monostate) {},
                 [&](std::optional<uint8_t>* o) { w.u8(0); w.u8(**o); },
                 [&](std::optional<uint16_t>* o) { w.u16(**o); },
                 [&](std::optional<uint32_t>* o) { w.u32(**o); },
                 [&](std::optional<uint64_t>* o) { w.u64(**o); },
                 [&](std::optional<std::string>* o) { w.bytes(**o); },
                 [&](std::optional<Bytes>* o) { w.bytes(**o); },
                 [&](std::optional<ResultCode>* o) {
                   w.u16((*o)->result);
                   if ((*o)->error) {
                     w.u16(*(*o)->error);
                     w.bytes((*o)->message);
                   }
                 },
                 [&](std::optional<ProtocolVersion>* o) { w.u8((*o)->version); w.u8((*o)->revision); },
                 [&](std::optional<Q931Cause>* o) {
                   w.u16((*o)->cause);
                   w.u8((*o)->message);
                   w.bytes((*o)->advisory);
                 },
                 [&](std::optional<CallErrors>* o) {
                   const CallErrors& c = **o;
                   w.u16(0);
                   for (uint32_t x : {c.crc, c.framing, c.hardware_overruns, c.buffer_overruns,
                                      c.timeouts, c.alignment})
                     w.u32(x);
                 },
                 [&](std::optional<Accm>* o) { w.u16(0); w.u32((*o)->send); w.u32((*o)->receive); },
                 [](bool*) {},
             },
             f);
}

bool length_ok(const AvpSpec& spec, size_t len) {
  if (len < spec.min_len || (spec.max_len != kUnbounded && len > spec.max_len)) return false;
  // 4.4.2: a Result Code carries the result alone, or the result and an
  // Error Code (then possibly a message): 3 octets is neither.
  if (spec.kind == AvpKind::kResultCode && len == 3) return false;
  return true;
}

AvpSet set_of(std::initializer_list<AvpType> types) {
  AvpSet s;
  for (AvpType t : types) s.set(static_cast<size_t>(t));
  return s;
}

}  // namespace

bool ControlMessage::has(AvpType t) const {
  if (t == AvpType::kMessageType) return !zlb;
  return field_present(field_ref(const_cast<ControlMessage&>(*this), static_cast<uint16_t>(t)));
}

const OpaqueAvp* ControlMessage::unrecognized_mandatory() const {
  for (const auto& a : unrecognized)
    if (a.mandatory) return &a;
  // Vendor AVPs are not understood by this implementation either (4.2).
  for (const auto& a : vendor_avps)
    if (a.mandatory) return &a;
  return nullptr;
}

Result<ControlMessage> decode_message(std::span<const uint8_t> body, const DecodeOptions& opts) {
  ControlMessage m;
  if (body.empty()) {
    m.zlb = true;
    return m;
  }
  AvpReader reader(body, opts.base_offset);
  std::span<const uint8_t> random_vector;  // closest preceding Random Vector (4.3)
  bool first = true;
  while (!reader.at_end()) {
    auto next = reader.next();
    if (!next) return next.error();
    const RawAvp& a = *next;
    auto fail = [&](Errc code, const char* field, uint32_t value) {
      return Error{code, field, value, a.offset, a.type};
    };
    // 4.4.1: the Message Type AVP is the first AVP, never hidden.
    if (first) {
      first = false;
      if (a.vendor_id != 0 || a.type != static_cast<uint16_t>(AvpType::kMessageType) || a.hidden)
        return fail(Errc::kMissingMessageType, "Message Type", a.type);
      if (a.value.size() != 2)
        return fail(Errc::kBadAvpLength, "Message Type", a.length);
      m.message_type = load_be16(a.value.data());
      m.message_type_mandatory = a.mandatory;
      m.wire_order.push_back({0, a.type, a.mandatory, a.hidden, AvpKept::kTyped});
      continue;
    }
    m.wire_order.push_back({a.vendor_id, a.type, a.mandatory, a.hidden, AvpKept::kTyped});
    auto keep_opaque = [&](std::vector<OpaqueAvp>& list, AvpKept kept) {
      list.push_back(OpaqueAvp{a.vendor_id, a.type, a.mandatory, a.hidden, a.reserved,
                               Bytes(a.value.begin(), a.value.end())});
      m.wire_order.back().kept = kept;
    };
    const AvpSpec* spec = a.vendor_id == 0 ? avp_spec(a.type) : nullptr;
    // 4.1: an AVP with reserved bits set is treated as unrecognized.
    if (a.reserved != 0 || (a.vendor_id == 0 && spec == nullptr)) {
      keep_opaque(m.unrecognized, AvpKept::kUnrecognized);
      continue;
    }
    if (a.vendor_id != 0) {
      keep_opaque(m.vendor_avps, AvpKept::kVendor);
      continue;
    }
    std::span<const uint8_t> value = a.value;
    Result<Bytes> revealed = Bytes{};
    if (a.hidden) {
      if (a.type == static_cast<uint16_t>(AvpType::kMessageType) ||
          a.type == static_cast<uint16_t>(AvpType::kRandomVector))
        return fail(Errc::kNotAllowed, spec->name, a.type);  // 4.4.1, 4.4.7: never hidden
      if (opts.secret.empty()) return fail(Errc::kHiddenNoSecret, spec->name, a.type);
      if (random_vector.empty()) return fail(Errc::kHiddenNoVector, spec->name, a.type);
      revealed = unhide_value(a.type, opts.secret, random_vector, a.value);
      if (!revealed) {
        Error e = revealed.error();
        e.field = spec->name;
        e.offset = a.offset;
        return e;
      }
      value = *revealed;
    }
    if (!length_ok(*spec, value.size()))
      return fail(Errc::kBadAvpLength, spec->name, static_cast<uint32_t>(value.size() + kAvpHeaderSize));
    FieldRef f = field_ref(m, a.type);
    if (a.type == static_cast<uint16_t>(AvpType::kRandomVector)) {
      random_vector = a.value;  // never hidden, so a.value is the vector itself
    } else if (field_present(f) || std::holds_alternative<std::monostate>(f)) {
      // A second Message Type, or any AVP twice: which one would count?
      return fail(Errc::kDuplicateAvp, spec->name, a.type);
    }
    store_value(f, value);
  }
  return m;
}

AvpSet required_avps(uint16_t message_type) {
  using T = AvpType;
  switch (static_cast<MessageType>(message_type)) {
    case MessageType::kSccrq:  // 6.1
    case MessageType::kSccrp:  // 6.2
      return set_of({T::kMessageType, T::kProtocolVersion, T::kHostName, T::kFramingCapabilities,
                     T::kAssignedTunnelId});
    case MessageType::kScccn: return set_of({T::kMessageType});  // 6.3
    case MessageType::kStopccn:                                  // 6.4
      return set_of({T::kMessageType, T::kAssignedTunnelId, T::kResultCode});
    case MessageType::kHello: return set_of({T::kMessageType});  // 6.5
    case MessageType::kIcrq:                                     // 6.6
      return set_of({T::kMessageType, T::kAssignedSessionId, T::kCallSerialNumber});
    case MessageType::kIcrp:  // 6.7
    case MessageType::kOcrp:  // 6.10
      return set_of({T::kMessageType, T::kAssignedSessionId});
    case MessageType::kIccn:  // 6.8
    case MessageType::kOccn:  // 6.11
      return set_of({T::kMessageType, T::kTxConnectSpeed, T::kFramingType});
    case MessageType::kOcrq:  // 6.9
      return set_of({T::kMessageType, T::kAssignedSessionId, T::kCallSerialNumber, T::kMinimumBps,
                     T::kMaximumBps, T::kBearerType, T::kFramingType, T::kCalledNumber});
    case MessageType::kCdn:  // 6.12
      return set_of({T::kMessageType, T::kResultCode, T::kAssignedSessionId});
    case MessageType::kWen: return set_of({T::kMessageType, T::kCallErrors});  // 6.13
    case MessageType::kSli: return set_of({T::kMessageType, T::kAccm});        // 6.14
  }
  return {};
}

AvpSet optional_avps(uint16_t message_type) {
  using T = AvpType;
  AvpSet s;
  switch (static_cast<MessageType>(message_type)) {
    case MessageType::kSccrq:
      s = set_of({T::kBearerCapabilities, T::kReceiveWindowSize, T::kChallenge, T::kTieBreaker,
                  T::kFirmwareRevision, T::kVendorName});
      break;
    case MessageType::kSccrp:
      s = set_of({T::kBearerCapabilities, T::kFirmwareRevision, T::kVendorName,
                  T::kReceiveWindowSize, T::kChallenge, T::kChallengeResponse});
      break;
    case MessageType::kScccn: s = set_of({T::kChallengeResponse}); break;
    case MessageType::kIcrq:
      s = set_of({T::kBearerType, T::kPhysicalChannelId, T::kCallingNumber, T::kCalledNumber,
                  T::kSubAddress});
      break;
    case MessageType::kIccn:
      s = set_of({T::kInitialReceivedLcpConfreq, T::kLastSentLcpConfreq,
                  T::kLastReceivedLcpConfreq, T::kProxyAuthenType, T::kProxyAuthenName,
                  T::kProxyAuthenChallenge, T::kProxyAuthenId, T::kProxyAuthenResponse,
                  T::kPrivateGroupId, T::kRxConnectSpeed, T::kSequencingRequired});
      break;
    case MessageType::kOcrq: s = set_of({T::kSubAddress}); break;
    case MessageType::kOcrp: s = set_of({T::kPhysicalChannelId}); break;
    case MessageType::kOccn: s = set_of({T::kRxConnectSpeed, T::kSequencingRequired}); break;
    case MessageType::kCdn: s = set_of({T::kQ931Cause}); break;
    case MessageType::kStopccn:
    case MessageType::kHello:
    case MessageType::kIcrp:
    case MessageType::kWen:
    case MessageType::kSli: break;
    default: return {};
  }
  s.set(static_cast<size_t>(T::kRandomVector));  // 4.3: may precede hidden AVPs anywhere
  return s;
}

Status validate_message(const ControlMessage& msg) {
  if (msg.zlb) return Ok{};
  if (!is_known_message_type(msg.message_type))
    return Error{Errc::kUnknownMessageType,
                 msg.message_type_mandatory ? "Message Type (M set)" : "Message Type (M clear)",
                 msg.message_type, 0, static_cast<uint16_t>(AvpType::kMessageType)};
  const AvpSet required = required_avps(msg.message_type);
  for (uint16_t t = 0; t < kAvpTypeLimit; ++t) {
    if (required.test(t) && !msg.has(static_cast<AvpType>(t)))
      return Error{Errc::kMissingAvp, avp_spec(t)->name, t, 0, t};
  }
  return Ok{};
}

Status encode_avps(const ControlMessage& msg, const EncodeOptions& opts, std::vector<uint8_t>& out) {
  auto& m = const_cast<ControlMessage&>(msg);  // field_ref is shared with decoding; nothing is written
  std::span<const uint8_t> random_vector;      // the last one emitted, for hiding
  std::bitset<kAvpTypeLimit> done;
  size_t vendor_next = 0;
  Bytes value;

  auto emit = [&](uint16_t type) -> Status {
    const AvpSpec* spec = avp_spec(type);
    FieldRef f = field_ref(m, type);
    if (spec == nullptr || done.test(type) || !field_present(f)) return Ok{};
    done.set(type);
    value.clear();
    append_value(f, value);
    if (!length_ok(*spec, value.size()))
      return Error{Errc::kBadAvpLength, spec->name, static_cast<uint32_t>(value.size()), 0, type};
    const bool hide = opts.hide.test(type);
    if (!hide) {
      if (value.size() + kAvpHeaderSize > kAvpMaxLength)
        return Error{Errc::kBadAvpLength, spec->name, static_cast<uint32_t>(value.size()), 0, type};
      put_avp(out, 0, type, spec->mandatory, false, value);
      if (type == static_cast<uint16_t>(AvpType::kRandomVector)) random_vector = *msg.random_vector;
      return Ok{};
    }
    if (!spec->hideable) return Error{Errc::kNotAllowed, spec->name, type, 0, type};
    if (opts.secret.empty()) return Error{Errc::kHiddenNoSecret, spec->name, type, 0, type};
    if (random_vector.empty()) return Error{Errc::kHiddenNoVector, spec->name, type, 0, type};
    const size_t sub = 2 + value.size();
    size_t pad = opts.hidden_pad_to ? (opts.hidden_pad_to - sub % opts.hidden_pad_to) % opts.hidden_pad_to : 0;
    if (kAvpHeaderSize + sub + pad > kAvpMaxLength) pad = 0;
    if (kAvpHeaderSize + sub > kAvpMaxLength)
      return Error{Errc::kBadAvpLength, spec->name, static_cast<uint32_t>(value.size()), 0, type};
    Bytes hidden;
    hide_value(type, opts.secret, random_vector, value, pad, hidden);
    put_avp(out, 0, type, spec->mandatory, true, hidden);
    return Ok{};
  };
  auto emit_vendor = [&] {
    const OpaqueAvp& v = msg.vendor_avps[vendor_next++];
    if (v.value.size() + kAvpHeaderSize > kAvpMaxLength)
      return Status(Error{Errc::kBadAvpLength, "vendor AVP", static_cast<uint32_t>(v.value.size()), 0, v.type});
    put_avp(out, v.vendor_id, v.type, v.mandatory, v.hidden, v.value);
    return Status(Ok{});
  };

  // 4.4.1: Message Type first, never hidden.
  if (opts.hide.test(static_cast<size_t>(AvpType::kMessageType)))
    return Error{Errc::kNotAllowed, "Message Type", 0, 0, 0};
  {
    uint8_t mt[2];
    store_be16(mt, msg.message_type);
    put_avp(out, 0, static_cast<uint16_t>(AvpType::kMessageType), msg.message_type_mandatory, false, mt);
  }
  for (const AvpMeta& w : msg.wire_order) {
    if (w.kept == AvpKept::kVendor && vendor_next < msg.vendor_avps.size()) {
      if (auto s = emit_vendor(); !s) return s;
    } else if (w.kept == AvpKept::kTyped && w.type != static_cast<uint16_t>(AvpType::kMessageType)) {
      if (auto s = emit(w.type); !s) return s;
    }
  }
  if (auto s = emit(static_cast<uint16_t>(AvpType::kRandomVector)); !s) return s;
  for (uint16_t t = 1; t < kAvpTypeLimit; ++t)
    if (auto s = emit(t); !s) return s;
  while (vendor_next < msg.vendor_avps.size())
    if (auto s = emit_vendor(); !s) return s;
  return Ok{};
}

namespace {

std::string quoted(std::string_view s) {
  std::string out = "\"";
  for (unsigned char c : s) {
    if (c == '"' || c == '\\') {
      out.push_back('\\');
      out.push_back(static_cast<char>(c));
    } else if (c >= 0x20 && c < 0x7F) {
      out.push_back(static_cast<char>(c));
    } else {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      out += buf;
    }
  }
  return out + "\"";
}

std::string bits(uint32_t v, const char* bit0, const char* bit1) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "0x%x", v);
  std::string s = buf;
  const char* sep = "(";
  if (v & 1) { s += sep; s += bit0; sep = ","; }
  if (v & 2) { s += sep; s += bit1; sep = ","; }
  if (*sep == ',') s += ")";
  return s;
}

}  // namespace

std::string format_avp_value(const ControlMessage& msg, uint16_t type) {
  using T = AvpType;
  char buf[160];
  if (type == static_cast<uint16_t>(T::kMessageType)) return std::to_string(msg.message_type);
  const FieldRef f = field_ref(const_cast<ControlMessage&>(msg), type);
  if (!field_present(f)) return {};
  switch (static_cast<T>(type)) {
    case T::kFramingCapabilities: return bits(*msg.framing_capabilities, "sync", "async");
    case T::kFramingType: return bits(*msg.framing_type, "sync", "async");
    case T::kBearerCapabilities: return bits(*msg.bearer_capabilities, "digital", "analog");
    case T::kBearerType: return bits(*msg.bearer_type, "digital", "analog");
    case T::kFirmwareRevision:
      std::snprintf(buf, sizeof buf, "0x%04x", *msg.firmware_revision);
      return buf;
    case T::kTieBreaker:
      std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(*msg.tie_breaker));
      return buf;
    default: break;
  }
  return std::visit(
      Overloaded{
          [](std::monostate) { return std::string(); },
          [](bool*) { return std::string(); },
          [](std::optional<uint8_t>* o) { return std::to_string(**o); },
          [](std::optional<uint16_t>* o) { return std::to_string(**o); },
          [](std::optional<uint32_t>* o) { return std::to_string(**o); },
          [](std::optional<uint64_t>* o) { return std::to_string(**o); },
          [](std::optional<std::string>* o) { return quoted(**o); },
          [](std::optional<Bytes>* o) { return to_hex(**o); },
          [](std::optional<ResultCode>* o) {
            std::string s = std::to_string((*o)->result);
            if ((*o)->error) s += "," + std::to_string(*(*o)->error) + "," + quoted((*o)->message);
            return s;
          },
          [](std::optional<ProtocolVersion>* o) {
            return std::to_string((*o)->version) + "." + std::to_string((*o)->revision);
          },
          [](std::optional<Q931Cause>* o) {
            return std::to_string((*o)->cause) + "," + std::to_string((*o)->message) + "," +
                   quoted((*o)->advisory);
          },
          [&](std::optional<CallErrors>* o) {
            const CallErrors& c = **o;
            std::snprintf(buf, sizeof buf, "crc=%u,framing=%u,hw_overruns=%u,buf_overruns=%u,timeouts=%u,alignment=%u",
                          c.crc, c.framing, c.hardware_overruns, c.buffer_overruns, c.timeouts, c.alignment);
            return std::string(buf);
          },
          [&](std::optional<Accm>* o) {
            std::snprintf(buf, sizeof buf, "send=0x%08x,recv=0x%08x", (*o)->send, (*o)->receive);
            return std::string(buf);
          },
      },
      f);
}

Result<std::vector<uint8_t>> encode_control(const Header& header, const ControlMessage& msg,
                                            const EncodeOptions& opts) {
  std::vector<uint8_t> out(encoded_header_size(header));
  if (!msg.zlb)
    if (auto s = encode_avps(msg, opts, out); !s) return s.error();
  auto h = encode_header(header, out.size() - encoded_header_size(header), out);
  if (!h) return h.error();
  return out;
}

}  // namespace l2tp::wire
