// Codec.cpp — client -> server messages: decodeClient (strict, network input) and
// encodeClient (for tests, the fuzzer and C++ clients). Server messages: CodecServer.cpp;
// HTTP bodies: CodecHttp.cpp. The wire format is specified in signalling/PROTOCOL.md.
//
// Decoding, in order: frame larger than 1 MiB -> MessageTooLarge; not strict UTF-8 JSON or
// not an object -> MalformedJson; "type" missing or not a string -> InvalidMessage; a type
// string this build does not know -> UnknownType; any field missing, mistyped or out of
// bounds -> InvalidMessage naming the field. Unknown fields are ignored. DecodeError.id is
// the frame's "id" whenever that is a valid request id (never for candidate, which has none).
#include "signalling/protocol/Codec.hpp"

#include <cctype>

#include "signalling/protocol/CodecSupport.hpp"

namespace manifold::protocol {
namespace {

using namespace wire;

void readRequestId(JsonReader& reader, RequestId& id) {
    reader.integer("id", id, 0, kMaxRequestId);
}

// ---------------------------------------------------------------- readers

void readHello(JsonReader& reader, Hello& out) {
    readRequestId(reader, out.id);
    reader.integerArray("versions", out.versions, 1, kMaxVersions, 1, kMaxVersion);
    reader.optionalString("client", out.client, kSoftware);
}

void readJoin(JsonReader& reader, Join& out) {
    readRequestId(reader, out.id);
    reader.string("room", out.room, kRoom);
    reader.optionalString("token", out.token, kToken);
    reader.optionalString("name", out.name, kName);
    reader.optionalObjectText("metadata", out.metadataJson, kMaxMetadataBytes);
    reader.optionalBoolean("autoSubscribe", out.autoSubscribe);
}

void readLeave(JsonReader& reader, Leave& out) {
    readRequestId(reader, out.id);
}

void readPublish(JsonReader& reader, Publish& out) {
    readRequestId(reader, out.id);
    readKind(reader, "kind", out.kind);
    reader.optionalString("label", out.label, kLabel);
    reader.optionalString("codec", out.codec, kCodec);
    if (!reader.ok() || out.codec.empty()) return;
    for (char& c : out.codec) c = char(std::toupper(static_cast<unsigned char>(c)));
    const bool video = out.kind == MediaKind::Video;
    const bool known = video ? (out.codec == "VP8" || out.codec == "VP9" || out.codec == "H264" || out.codec == "AV1")
                             : out.codec == "OPUS";
    if (!known)
        reader.fail(video ? "publish.codec must be one of VP8, VP9, H264, AV1 for video"
                          : "publish.codec must be OPUS for audio");
}

void readUnpublish(JsonReader& reader, Unpublish& out) {
    readRequestId(reader, out.id);
    reader.string("trackId", out.trackId, kObjectId);
}

void readSubscribe(JsonReader& reader, Subscribe& out) {
    readRequestId(reader, out.id);
    reader.stringArray("trackIds", out.trackIds, 0, kMaxTrackIds, kObjectId, false);
}

void readUnsubscribe(JsonReader& reader, Unsubscribe& out) {
    readRequestId(reader, out.id);
    // Required; [] turns auto-subscribe off without dropping any subscription.
    reader.stringArray("trackIds", out.trackIds, 0, kMaxTrackIds, kObjectId, true);
}

void readMute(JsonReader& reader, Mute& out) {
    readRequestId(reader, out.id);
    reader.string("trackId", out.trackId, kObjectId);
    reader.boolean("muted", out.muted);
}

void readPause(JsonReader& reader, Pause& out) {
    readRequestId(reader, out.id);
    reader.string("trackId", out.trackId, kObjectId);
    reader.boolean("paused", out.paused);
}

void readAnswer(JsonReader& reader, Answer& out) {
    readRequestId(reader, out.id);
    reader.integer("negotiationId", out.negotiationId, 0, kMaxNegotiationId);
    reader.string("sdp", out.sdp, kSdp);
}

void readPing(JsonReader& reader, Ping& out) {
    readRequestId(reader, out.id);
}

// A candidate has no id and gets no reply; its errors carry no id either.
Decoded<ClientMessage> decodeCandidate(const Frame& frame) {
    Decoded<ClientMessage> result = decodeAs<ClientMessage, Candidate, readCandidate>(frame);
    if (auto* error = std::get_if<DecodeError>(&result))
        error->id.reset();
    return result;
}

template <typename Message, void (*Read)(JsonReader&, Message&)>
constexpr DecoderEntry<ClientMessage> entry() {
    return {kTypeName<Message>, decodeAs<ClientMessage, Message, Read>};
}

constexpr DecoderEntry<ClientMessage> kClientDecoders[] = {
    entry<Hello, readHello>(),
    entry<Join, readJoin>(),
    entry<Leave, readLeave>(),
    entry<Publish, readPublish>(),
    entry<Unpublish, readUnpublish>(),
    entry<Subscribe, readSubscribe>(),
    entry<Unsubscribe, readUnsubscribe>(),
    entry<Mute, readMute>(),
    entry<Pause, readPause>(),
    entry<Answer, readAnswer>(),
    {kTypeName<Candidate>, decodeCandidate},
    entry<Ping, readPing>(),
};
static_assert(std::size(kClientDecoders) == std::variant_size_v<ClientMessage>);

// ---------------------------------------------------------------- writers

void write(JsonWriter& writer, const Hello& m) {
    writer.integer("id", m.id);
    writer.beginArray("versions");
    for (int version : m.versions)
        writer.integerElement(version);
    writer.endArray();
    writer.optionalString("client", m.client);
}

void write(JsonWriter& writer, const Join& m) {
    writer.integer("id", m.id);
    writer.string("room", m.room);
    writer.optionalString("token", m.token);
    writer.optionalString("name", m.name);
    writer.objectText("metadata", m.metadataJson);
    writer.boolean("autoSubscribe", m.autoSubscribe);
}

void write(JsonWriter& writer, const Leave& m) {
    writer.integer("id", m.id);
}

void write(JsonWriter& writer, const Publish& m) {
    writer.integer("id", m.id);
    writer.string("kind", toString(m.kind));
    writer.optionalString("label", m.label);
    writer.optionalString("codec", m.codec);
}

void write(JsonWriter& writer, const Unpublish& m) {
    writer.integer("id", m.id);
    writer.string("trackId", m.trackId);
}

void writeTrackIds(JsonWriter& writer, const std::vector<std::string>& trackIds) {
    writer.beginArray("trackIds");
    for (const std::string& trackId : trackIds)
        writer.stringElement(trackId);
    writer.endArray();
}

void write(JsonWriter& writer, const Subscribe& m) {
    writer.integer("id", m.id);
    if (!m.trackIds.empty()) // absent = every track
        writeTrackIds(writer, m.trackIds);
}

void write(JsonWriter& writer, const Unsubscribe& m) {
    writer.integer("id", m.id);
    writeTrackIds(writer, m.trackIds);
}

void write(JsonWriter& writer, const Mute& m) {
    writer.integer("id", m.id);
    writer.string("trackId", m.trackId);
    writer.boolean("muted", m.muted);
}

void write(JsonWriter& writer, const Pause& m) {
    writer.integer("id", m.id);
    writer.string("trackId", m.trackId);
    writer.boolean("paused", m.paused);
}

void write(JsonWriter& writer, const Answer& m) {
    writer.integer("id", m.id);
    writer.integer("negotiationId", static_cast<std::int64_t>(m.negotiationId));
    writer.string("sdp", m.sdp);
}

void write(JsonWriter& writer, const Candidate& m) {
    writeCandidate(writer, m);
}

void write(JsonWriter& writer, const Ping& m) {
    writer.integer("id", m.id);
}

} // namespace

Decoded<ClientMessage> decodeClient(std::string_view text) {
    return decodeWith(text, kClientDecoders);
}

std::string encodeClient(const ClientMessage& message) {
    return std::visit(
        [](const auto& m) {
            return encodeAs(m, [](JsonWriter& writer, const auto& value) { write(writer, value); });
        },
        message);
}

} // namespace manifold::protocol
