#include "pipelines/router/Router.hpp"

#include <algorithm>

#include "core/Log.hpp"

namespace manifold::media {

Router::Router(std::string room, MediaCounters& counters, MonotonicClock clock)
    : room_(std::move(room)), counters_(counters), clock_(std::move(clock)) {
    MLOG(Media, Debug, "[%s] router created", room_.c_str());
}

Router::~Router() {
    for (auto& [id, entry] : producers_) {
        for (auto& consumer : entry.consumers) consumer->moveTo(Consumer::State::Closed);
        entry.producer->close();
    }
    MLOG(Media, Debug, "[%s] router closed", room_.c_str());
}

std::shared_ptr<Producer> Router::createProducer(const std::string& id, MediaKind kind, const std::string& logTag) {
    if (producers_.count(id)) {
        MLOG(Media, Warning, "%sa producer for track %s exists already", logTag.c_str(), id.c_str());
        return nullptr;
    }
    auto producer = std::make_shared<Producer>(id, kind, logTag, counters_, clock_);
    producers_[id] = Entry{producer, {}};
    return producer;
}

void Router::closeProducer(const std::string& id) {
    auto it = producers_.find(id);
    if (it == producers_.end()) return;
    Entry entry = std::move(it->second);
    producers_.erase(it);
    entry.producer->close(); // drops its forwarding list
    for (auto& consumer : entry.consumers)
        if (consumer->state() != Consumer::State::Closed) consumer->moveTo(Consumer::State::Closed);
}

std::shared_ptr<Producer> Router::producer(const std::string& id) const {
    auto it = producers_.find(id);
    return it == producers_.end() ? nullptr : it->second.producer;
}

std::shared_ptr<Consumer> Router::consume(const std::string& producerId, const std::string& endpointId,
                                          const std::string& logTag, Attach attach) {
    auto it = producers_.find(producerId);
    if (it == producers_.end()) return nullptr;
    auto consumer = std::make_shared<Consumer>(endpointId, it->second.producer, logTag);
    it->second.consumers.push_back(consumer);
    attachWhenReady(consumer, attach);
    return consumer;
}

void Router::attachWhenReady(const std::shared_ptr<Consumer>& consumer, const Attach& attach) {
    std::shared_ptr<Producer> producer = consumer->producer();
    // Weak: a consumer closed (or a producer gone) before the media flows is not attached.
    producer->whenReady([weak = std::weak_ptr<Consumer>(consumer), attach] {
        auto consumer = weak.lock();
        if (!consumer || consumer->state() != Consumer::State::Waiting) return;
        auto producer = consumer->producer();
        if (!producer || !attach(consumer) || !consumer->sink()) {
            consumer->moveTo(Consumer::State::Closed);
            return;
        }
        consumer->moveTo(Consumer::State::Attached);
        producer->addConsumer(consumer);
    });
}

void Router::closeConsumer(const std::shared_ptr<Consumer>& consumer) {
    if (!consumer) return;
    if (consumer->state() != Consumer::State::Closed) consumer->moveTo(Consumer::State::Closed);
    auto it = producers_.find(consumer->producerId());
    if (it == producers_.end()) return;
    auto& list = it->second.consumers;
    list.erase(std::remove(list.begin(), list.end(), consumer), list.end());
    it->second.producer->removeConsumer(consumer);
}

std::size_t Router::consumerCount() const {
    std::size_t n = 0;
    for (const auto& [id, entry] : producers_) n += entry.consumers.size();
    return n;
}

std::vector<std::shared_ptr<Consumer>> Router::consumersOf(const std::string& producerId) const {
    auto it = producers_.find(producerId);
    return it == producers_.end() ? std::vector<std::shared_ptr<Consumer>>{} : it->second.consumers;
}

} // namespace manifold::media
