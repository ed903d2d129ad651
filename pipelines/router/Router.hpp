// Router.hpp — the media plane of one room: which producer's packets go to which consumer.
//
// What: owns the room's Producers (published tracks, keyed by track id) and maps each to
// its Consumers (one forwarded track into one endpoint each), like mediasoup's
// Router::mapProducerConsumers. Subscribing names a producer id and an endpoint, never
// another participant's session: consume() creates the consumer, waits until the
// producer's media flows (its codec and SSRC are known only then), lets the endpoint
// attach it (give it a sink) and adds it to the producer's forwarding list. Endpoints
// (a participant's webrtcbin today; RTSP ingest, recorders, WHIP/WHEP next) reach the
// router only through this class and the ProducerOrigin/ConsumerSink interfaces.
// Thread: control thread only. The packet path (Producer::forward) never comes here.
// Ownership: shared (shared_ptr) by the endpoints of the room (each media session holds
// it); the engine keeps a weak index by room name, so the router lives exactly as long
// as something in its room uses media. Owns its producers (shared with their origins)
// and its consumer map.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/Types.hpp"
#include "pipelines/router/Consumer.hpp"
#include "pipelines/router/Producer.hpp"

namespace manifold::media {

class Router {
public:
    Router(std::string room, MediaCounters& counters, MonotonicClock clock);
    ~Router();
    Router(const Router&) = delete;
    Router& operator=(const Router&) = delete;

    const std::string& room() const { return room_; }

    /// A new producer for track `id`; null if one with that id exists already.
    std::shared_ptr<Producer> createProducer(const std::string& id, MediaKind kind, const std::string& logTag);
    /// Closes the producer and every consumer of it. Unknown ids are ignored.
    void closeProducer(const std::string& id);
    std::shared_ptr<Producer> producer(const std::string& id) const;

    /// Called once the producer's media flows, on the control thread, with the consumer
    /// still Waiting: give it a sink (Consumer::setSink) and return true, or false to
    /// drop it (the endpoint is gone or cannot take it).
    using Attach = std::function<bool(const std::shared_ptr<Consumer>&)>;
    /// A consumer of producer `producerId` for endpoint `endpointId`; null when no such
    /// producer exists. `attach` runs now if the producer is ready, else when it is.
    std::shared_ptr<Consumer> consume(const std::string& producerId, const std::string& endpointId,
                                      const std::string& logTag, Attach attach);
    /// Stops the consumer's packets and forgets it. Safe to call for a closed one.
    void closeConsumer(const std::shared_ptr<Consumer>& consumer);

    std::size_t producerCount() const { return producers_.size(); }
    std::size_t consumerCount() const;
    std::vector<std::shared_ptr<Consumer>> consumersOf(const std::string& producerId) const;

private:
    struct Entry {
        std::shared_ptr<Producer> producer;
        std::vector<std::shared_ptr<Consumer>> consumers; // Waiting ones included
    };
    void attachWhenReady(const std::shared_ptr<Consumer>& consumer, const Attach& attach);

    const std::string room_;
    MediaCounters& counters_; // Owned by the engine, which outlives every router.
    const MonotonicClock clock_;
    std::map<std::string, Entry> producers_;
};

} // namespace manifold::media
