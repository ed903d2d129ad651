// fuzz_codec — libFuzzer target for the protocol codec (see tests/fuzz/meson.build).
//
// Every input goes through every target below. A target aborts (a crash libFuzzer keeps)
// when an invariant breaks:
//  - decoders never crash, leak or trip a sanitizer on any input;
//  - what decodes re-encodes to text that decodes to an equal message, and re-encoding
//    that gives the same text (round-trip stability);
//  - the error reply built from any DecodeError is itself a valid server message.
// To fuzz more (the session handler, …), add a function and list it in kTargets.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "signalling/protocol/Codec.hpp"

namespace {

using namespace manifold::protocol;

[[noreturn]] void broken(const char* what, std::string_view input, std::string_view detail) {
    std::fprintf(stderr, "fuzz_codec: %s\n  input: %.*s\n  detail: %.*s\n", what,
                 static_cast<int>(input.size()), input.data(), static_cast<int>(detail.size()),
                 detail.data());
    std::abort();
}

// The session answers every refused frame with an error; that reply must be valid.
void checkErrorReply(const DecodeError& error, std::string_view input) {
    const Error reply{error.id, error.code, error.message};
    const std::string text = encodeServer(reply);
    const Decoded<ServerMessage> decoded = decodeServer(text);
    if (const auto* again = std::get_if<DecodeError>(&decoded))
        broken("error reply does not decode", input, again->message + " in " + text);
    if (std::get<ServerMessage>(decoded) != ServerMessage{reply})
        broken("error reply changed in a round trip", input, text);
}

template <typename Message, typename Encode, typename Decode>
void checkRoundTrip(const Message& message, Encode encode, Decode decode, std::string_view input) {
    const std::string first = encode(message);
    const auto decoded = decode(first);
    if (const auto* error = std::get_if<DecodeError>(&decoded))
        broken("re-encoded message does not decode", input, error->message + " in " + first);
    const Message& again = std::get<Message>(decoded);
    if (!(again == message))
        broken("message changed in a round trip", input, first);
    const std::string second = encode(again);
    if (second != first)
        broken("encoding is not stable", input, first + "\n  then: " + second);
}

void fuzzClientFrame(std::string_view input) {
    const Decoded<ClientMessage> decoded = decodeClient(input);
    if (const auto* error = std::get_if<DecodeError>(&decoded))
        return checkErrorReply(*error, input);
    checkRoundTrip(std::get<ClientMessage>(decoded), encodeClient, decodeClient, input);
}

void fuzzServerFrame(std::string_view input) {
    const Decoded<ServerMessage> decoded = decodeServer(input);
    if (std::holds_alternative<DecodeError>(decoded))
        return;
    checkRoundTrip(std::get<ServerMessage>(decoded), encodeServer, decodeServer, input);
}

void fuzzAuthReply(std::string_view input) {
    const Decoded<AuthDecision> decoded = decodeAuthReply(input);
    if (const auto* decision = std::get_if<AuthDecision>(&decoded)) {
        // Only an explicit {"allow": true} allows.
        if (decision->allowed && input.find("true") == std::string_view::npos)
            broken("allowed without a literal true", input, decision->identity);
        // What the webhook said ends up in events and admin replies.
        Event event;
        event.event = "participant-joined";
        event.participant = ParticipantInfo{"p", decision->identity, decision->message, "", {}};
        const Decoded<ServerMessage> check =
            decodeServer(encodeServer(Error{std::nullopt, decision->code, decision->message}));
        if (std::holds_alternative<DecodeError>(check))
            broken("denial message does not survive an error reply", input, decision->message);
        (void)encodeEvent(event);
    }
}

using Target = void (*)(std::string_view input);
constexpr Target kTargets[] = {fuzzClientFrame, fuzzServerFrame, fuzzAuthReply};

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view input(reinterpret_cast<const char*>(data), size);
    for (Target target : kTargets)
        target(input);
    return 0;
}
