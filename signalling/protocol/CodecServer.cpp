// CodecServer.cpp — server -> client messages: encodeServer (what the server sends) and
// decodeServer (for tests, the fuzzer's round trip and C++ clients; as strict as
// decodeClient, see Codec.cpp). The wire format is specified in signalling/PROTOCOL.md.
#include "signalling/protocol/Codec.hpp"

#include "signalling/protocol/CodecSupport.hpp"

namespace manifold::protocol {
namespace {

using namespace wire;

void readRequestId(JsonReader& reader, RequestId& id) {
    reader.integer("id", id, 0, kMaxRequestId);
}

template <typename Value, typename Read>
void readObject(JsonReader& reader, const char* key, Value& out, Read read) {
    reader.object(key, [&](JsonReader& child) { read(child, out); });
}

// ---------------------------------------------------------------- readers

void readWelcome(JsonReader& reader, Welcome& out) {
    readRequestId(reader, out.id);
    reader.integer("version", out.version, 1, kMaxVersion);
    reader.string("server", out.server, kSoftware);
}

void readJoined(JsonReader& reader, Joined& out) {
    readRequestId(reader, out.id);
    reader.string("room", out.room, kRoom);
    reader.string("participantId", out.participantId, kObjectId);
    reader.object("grants", [&](JsonReader& grants) { readGrants(grants, out.grants, true); });
    reader.objectArray("participants", out.participants, kMaxParticipants, readParticipant);
    reader.objectArray("iceServers", out.iceServers, kMaxIceServers, readIceServer);
}

void readOk(JsonReader& reader, Ok& out) {
    readRequestId(reader, out.id);
}

void readPublished(JsonReader& reader, Published& out) {
    readRequestId(reader, out.id);
    readObject(reader, "track", out.track, readTrack);
}

void readPong(JsonReader& reader, Pong& out) {
    readRequestId(reader, out.id);
}

void readParticipantJoined(JsonReader& reader, ParticipantJoined& out) {
    readObject(reader, "participant", out.participant, readParticipant);
}

void readParticipantLeft(JsonReader& reader, ParticipantLeft& out) {
    reader.string("participantId", out.participantId, kObjectId);
    reader.string("reason", out.reason, kReason);
}

void readTrackPublished(JsonReader& reader, TrackPublished& out) {
    readObject(reader, "track", out.track, readTrack);
}

void readTrackUnpublished(JsonReader& reader, TrackUnpublished& out) {
    reader.string("trackId", out.trackId, kObjectId);
    reader.string("participantId", out.participantId, kObjectId);
}

void readTrackMuted(JsonReader& reader, TrackMuted& out) {
    reader.string("trackId", out.trackId, kObjectId);
    reader.string("participantId", out.participantId, kObjectId);
    reader.boolean("muted", out.muted);
}

void readOffer(JsonReader& reader, Offer& out) {
    reader.integer("negotiationId", out.negotiationId, 0, kMaxNegotiationId);
    reader.string("sdp", out.sdp, kSdp);
    reader.objectArray("mids", out.mids, kMaxMids, readMid);
}

void readSpeaking(JsonReader& reader, Speaking& out) {
    reader.string("participantId", out.participantId, kObjectId);
    reader.string("trackId", out.trackId, kObjectId);
    reader.boolean("speaking", out.speaking);
}

void readDisconnect(JsonReader& reader, Disconnect& out) {
    reader.string("reason", out.reason, kReason);
    reader.string("message", out.message, kText);
}

void readError(JsonReader& reader, Error& out) {
    if (reader.has("id")) { // absent when the failing frame had no readable id
        RequestId id = 0;
        readRequestId(reader, id);
        out.id = id;
    }
    int code = 0;
    reader.integer("code", code, kMinErrorCode, kMaxErrorCode);
    out.code = static_cast<ErrorCode>(code);
    std::string reason; // derived from code; checked for shape only
    reader.string("reason", reason, kReason);
    reader.string("message", out.message, kText);
}

template <typename Message, void (*Read)(JsonReader&, Message&)>
constexpr DecoderEntry<ServerMessage> entry() {
    return {kTypeName<Message>, decodeAs<ServerMessage, Message, Read>};
}

constexpr DecoderEntry<ServerMessage> kServerDecoders[] = {
    entry<Welcome, readWelcome>(),
    entry<Joined, readJoined>(),
    entry<Ok, readOk>(),
    entry<Published, readPublished>(),
    entry<Pong, readPong>(),
    entry<ParticipantJoined, readParticipantJoined>(),
    entry<ParticipantLeft, readParticipantLeft>(),
    entry<TrackPublished, readTrackPublished>(),
    entry<TrackUnpublished, readTrackUnpublished>(),
    entry<TrackMuted, readTrackMuted>(),
    entry<Offer, readOffer>(),
    entry<Candidate, readCandidate>(),
    entry<Speaking, readSpeaking>(),
    entry<Disconnect, readDisconnect>(),
    entry<Error, readError>(),
};
static_assert(std::size(kServerDecoders) == std::variant_size_v<ServerMessage>);

// ---------------------------------------------------------------- writers

template <typename Value, typename Write>
void writeObject(JsonWriter& writer, const char* key, const Value& value, Write write) {
    writer.beginObject(key);
    write(writer, value);
    writer.endObject();
}

void write(JsonWriter& writer, const Welcome& m) {
    writer.integer("id", m.id);
    writer.integer("version", m.version);
    writer.string("server", m.server);
}

void write(JsonWriter& writer, const Joined& m) {
    writer.integer("id", m.id);
    writer.string("room", m.room);
    writer.string("participantId", m.participantId);
    writeGrants(writer, "grants", m.grants);
    writeParticipants(writer, "participants", m.participants);
    writer.beginArray("iceServers");
    for (const IceServer& server : m.iceServers) {
        writer.beginObject();
        writeIceServer(writer, server);
        writer.endObject();
    }
    writer.endArray();
}

void write(JsonWriter& writer, const Ok& m) {
    writer.integer("id", m.id);
}

void write(JsonWriter& writer, const Published& m) {
    writer.integer("id", m.id);
    writeObject(writer, "track", m.track, writeTrack);
}

void write(JsonWriter& writer, const Pong& m) {
    writer.integer("id", m.id);
}

void write(JsonWriter& writer, const ParticipantJoined& m) {
    writeObject(writer, "participant", m.participant, writeParticipant);
}

void write(JsonWriter& writer, const ParticipantLeft& m) {
    writer.string("participantId", m.participantId);
    writer.string("reason", m.reason);
}

void write(JsonWriter& writer, const TrackPublished& m) {
    writeObject(writer, "track", m.track, writeTrack);
}

void write(JsonWriter& writer, const TrackUnpublished& m) {
    writer.string("trackId", m.trackId);
    writer.string("participantId", m.participantId);
}

void write(JsonWriter& writer, const TrackMuted& m) {
    writer.string("trackId", m.trackId);
    writer.string("participantId", m.participantId);
    writer.boolean("muted", m.muted);
}

void write(JsonWriter& writer, const Offer& m) {
    writer.integer("negotiationId", static_cast<std::int64_t>(m.negotiationId));
    writer.string("sdp", m.sdp);
    writer.beginArray("mids");
    for (const MidMapping& mid : m.mids) {
        writer.beginObject();
        writeMid(writer, mid);
        writer.endObject();
    }
    writer.endArray();
}

void write(JsonWriter& writer, const Candidate& m) {
    writeCandidate(writer, m);
}

void write(JsonWriter& writer, const Speaking& m) {
    writer.string("participantId", m.participantId);
    writer.string("trackId", m.trackId);
    writer.boolean("speaking", m.speaking);
}

void write(JsonWriter& writer, const Disconnect& m) {
    writer.string("reason", m.reason);
    writer.string("message", m.message);
}

void write(JsonWriter& writer, const Error& m) {
    if (m.id)
        writer.integer("id", *m.id);
    writer.integer("code", static_cast<int>(m.code));
    writer.string("reason", errorReason(m.code));
    writer.string("message", m.message);
}

} // namespace

std::string encodeServer(const ServerMessage& message) {
    return std::visit(
        [](const auto& m) {
            return encodeAs(m, [](JsonWriter& writer, const auto& value) { write(writer, value); });
        },
        message);
}

Decoded<ServerMessage> decodeServer(std::string_view text) {
    return decodeWith(text, kServerDecoders);
}

} // namespace manifold::protocol
