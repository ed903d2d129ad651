// fuzz_session — libFuzzer target for the signalling session handler over the real
// Gateway and codec (see tests/fuzz/meson.build).
//
// The input is a script: one frame per line; a line's first byte picks which of three
// connections sends it (byte % 3), the rest is the frame. Between frames the clock moves
// 40 ms, so timeouts and rate limits take part. A fake media engine answers publish and
// subscribe with offers, so answers and candidates have something to match.
// Invariants (a crash libFuzzer keeps): no sanitizer report, and every frame a session
// sends decodes as a valid server message.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "signalling/protocol/Codec.hpp"
#include "signalling/session/Session.hpp"
#include "tests/support/ManualScheduler.hpp"

namespace {

using namespace manifold;
using namespace manifold::protocol;
using session::Session;

struct CheckingTransport final : Session::Transport {
    void send(const std::string& text) override {
        const Decoded<ServerMessage> decoded = decodeServer(text);
        if (const auto* e = std::get_if<DecodeError>(&decoded)) {
            std::fprintf(stderr, "fuzz_session: the session sent an invalid message: %s\n  %s\n",
                         e->message.c_str(), text.c_str());
            std::abort();
        }
    }
    void close(int, const std::string&) override { closed = true; }
    bool closed = false;
};

struct AllowAll final : auth::Authorizer {
    void authorize(const AuthContext& c, Done done) override {
        if (c.action == AuthAction::Join) done(AuthDecision::allow("fuzz", Grants::all()));
        else done(AuthDecision::allow(c.identity, c.grants));
    }
    const char* mode() const override { return "fuzz"; }
};

struct FakeMediaSession final : MediaSession {
    explicit FakeMediaSession(Listener& l) : listener(l) {}
    void offer(const TrackInfo& t, MidMapping::Direction d) {
        const std::uint64_t n = ++negotiation;
        listener.onLocalOffer(n, "v=0\r\n", {MidMapping{"m" + std::to_string(n), t.id, t.participantId, d}});
        listener.onLocalCandidate(0, "", "candidate:1 1 UDP 1 127.0.0.1 9 typ host");
    }
    void publish(const TrackInfo& t, const std::string&) override { offer(t, MidMapping::Direction::Send); }
    void unpublish(const std::string&) override {}
    void subscribe(const TrackInfo& t) override { offer(t, MidMapping::Direction::Recv); }
    void unsubscribe(const std::string&) override {}
    void setPaused(const std::string&, bool) override {}
    void setMuted(const std::string& id, bool muted) override {
        if (muted) listener.onSpeaking(id, false);
    }
    Status applyAnswer(std::uint64_t, const std::string& sdp) override {
        if (sdp.size() % 2) return std::nullopt; // both outcomes get exercised
        return Failure(Refusal::BadAnswer, "odd answer");
    }
    Status addRemoteCandidate(int, const std::string&, const std::string& c) override {
        if (c.size() % 2) return std::nullopt;
        return Failure(Refusal::BadCandidate, "odd candidate");
    }
    Listener& listener;
    std::uint64_t negotiation = 0;
};

struct FakeMedia final : MediaEngine {
    std::unique_ptr<MediaSession> createSession(const std::string&, const std::string&,
                                                MediaSession::Listener& l) override {
        return std::make_unique<FakeMediaSession>(l);
    }
};

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    test::ManualScheduler clock;
    Gateway gateway(Limits{4, 3, 2, std::chrono::milliseconds(100)}, clock);
    AllowAll authorizer;
    FakeMedia media;
    session::SessionMetrics metrics;
    Session::Config config;
    config.maxMessageSize = 4096;
    config.messageRate = 50;
    config.messageBurst = 20;
    config.joinTimeout = std::chrono::milliseconds(2000);
    config.idleTimeout = std::chrono::milliseconds(3000);

    constexpr int kClients = 3;
    CheckingTransport transports[kClients];
    std::vector<std::shared_ptr<Session>> sessions;
    for (auto& t : transports) {
        sessions.push_back(Session::create(config, Session::Deps{gateway, authorizer, clock, &media, metrics}, t, "127.0.0.1"));
        sessions.back()->start();
    }

    std::string_view input(reinterpret_cast<const char*>(data), size);
    while (!input.empty()) {
        const std::size_t end = input.find('\n');
        std::string_view line = input.substr(0, end);
        input = end == std::string_view::npos ? std::string_view{} : input.substr(end + 1);
        if (line.empty()) continue;
        Session& s = *sessions[static_cast<unsigned char>(line[0]) % kClients];
        if (line.size() > 1 && line[1] == '\x01')
            s.onTransportClosed(); // the peer vanished
        else
            s.onFrame(line.substr(1));
        clock.advance(std::chrono::milliseconds(40));
    }
    // Admin actions and shutdown run over whatever state the script left.
    if (size % 3 == 0 && gateway.roomCount() > 0) gateway.closeRoom(gateway.rooms().front().name);
    gateway.shutdown();
    for (auto& s : sessions) s->onTransportClosed();
    clock.advance(std::chrono::milliseconds(5000));
    return 0;
}
