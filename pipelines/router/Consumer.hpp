// Consumer.hpp — one producer's track forwarded into one endpoint (a subscription in the
// media plane).
//
// What: the consumer's life is one state, moved only by moveTo(), which logs and
// rejects moves the table below does not allow:
//
//   Waiting ──(producer's media flows; the endpoint gave it a sink)──▶ Attached
//   Attached ──(carried by an offer being made)──▶ Offering ──(offer sent)──▶ Offered
//   Offering ──(the offer failed and is made again)──▶ Attached
//   Offered ──(the answer keeps its codec; sink linked)──▶ Linked
//   Offered ──(the answer refused its codec: parked)──▶ Refused
//   Attached | Linked ──(the endpoint can take packets: DTLS up, input connected)──▶ Open
//   any ──▶ Closed (unsubscribed, the producer or the endpoint went away)
//
// (Attached → Open is for sinks that need no negotiation, e.g. a recorder.) Packets
// flow only while isActive(): state Open and not paused; that is the one gate the
// forwarding thread reads. Pausing is the subscriber's choice, kept apart from the state.
// Thread: moveTo/setPaused on the control thread; isActive, sink and requestKeyframe
// on any thread (atomics; the sink is set once, before the consumer is attached).
// Ownership: shared by the Router (in its producer → consumers map), the Producer's
// forwarding snapshot and the endpoint that consumes (e.g. a webrtcbin send slot).
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

#include "core/Types.hpp"
#include "pipelines/router/Endpoints.hpp"

namespace manifold::media {

class Producer;

class Consumer {
public:
    enum class State : std::uint8_t { Waiting, Attached, Offering, Offered, Linked, Open, Refused, Closed };

    Consumer(std::string endpointId, const std::shared_ptr<Producer>& producer, std::string logTag);
    Consumer(const Consumer&) = delete;
    Consumer& operator=(const Consumer&) = delete;

    const std::string& endpointId() const { return endpointId_; }
    const std::string& producerId() const { return producerId_; }
    MediaKind kind() const { return kind_; }
    /// Null once the producer is gone.
    std::shared_ptr<Producer> producer() const { return producer_.lock(); }

    // ---- control thread
    State state() const { return state_.load(std::memory_order_acquire); }
    /// Moves to `next` if the table allows it; false (and a log line) if not.
    bool moveTo(State next);
    /// Where packets go; set once, while Waiting.
    void setSink(std::shared_ptr<ConsumerSink> sink);
    /// Resuming asks the producer for a keyframe (the subscriber's decoder needs one).
    void setPaused(bool paused);
    bool paused() const { return paused_.load(std::memory_order_relaxed); }

    // ---- any thread
    /// The one gate: Open and not paused.
    bool isActive() const {
        return state_.load(std::memory_order_acquire) == State::Open && !paused_.load(std::memory_order_relaxed);
    }
    ConsumerSink* sink() const { return sink_.get(); }
    /// A PLI/FIR from the endpoint: passed to the producer (throttled there). `soon`: a
    /// receiver just became able to decode.
    void requestKeyframe(bool soon = false) const;

    static bool allowed(State from, State to);
    static const char* toString(State state);

private:
    const std::string endpointId_;
    const std::string producerId_;
    const MediaKind kind_;
    const std::string logTag_;
    const std::weak_ptr<Producer> producer_; // a consumer never keeps its producer alive
    std::shared_ptr<ConsumerSink> sink_;
    std::atomic<State> state_{State::Waiting};
    std::atomic<bool> paused_{false};
};

} // namespace manifold::media
