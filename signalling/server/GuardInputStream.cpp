// GuardInputStream.cpp — see GuardInputStream.hpp. A GObject type (G_DEFINE_TYPE_WITH_CODE)
// implementing only the virtual functions libsoup and GIO call on it.
#include "signalling/server/GuardInputStream.hpp"

#include <memory>

#include "common/GObjectPtr.hpp"

namespace manifold::server {
namespace {

struct State {
    GObjectPtr<GInputStream> base;
    GuardInputHooks hooks;
    bool blocked = false;
    bool failed = false;
    GObjectPtr<GCancellable> wake = adopt(g_cancellable_new()); // cancelled by fail(): fires every source we handed out
};

} // namespace
} // namespace manifold::server

extern "C" {

typedef struct {
    GInputStream parent_instance;
    manifold::server::State* state;
} ManifoldGuardInputStream;

typedef struct {
    GInputStreamClass parent_class;
} ManifoldGuardInputStreamClass;

static void manifold_guard_input_stream_pollable_init(GPollableInputStreamInterface* iface);

G_DEFINE_TYPE_WITH_CODE(ManifoldGuardInputStream, manifold_guard_input_stream, G_TYPE_INPUT_STREAM,
                        G_IMPLEMENT_INTERFACE(G_TYPE_POLLABLE_INPUT_STREAM,
                                              manifold_guard_input_stream_pollable_init))

} // extern "C"

namespace manifold::server {
namespace {

State* stateOf(gpointer stream) {
    return reinterpret_cast<ManifoldGuardInputStream*>(stream)->state;
}

bool setFailedError(const State* s, GError** error) {
    if (s->failed) {
        g_set_error_literal(error, G_IO_ERROR, G_IO_ERROR_CONNECTION_CLOSED, "the connection was closed by its guard");
        return true;
    }
    if (s->blocked) {
        g_set_error_literal(error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK, "the connection is being answered by its guard");
        return true;
    }
    return false;
}

// Shows what was read to the hooks; what they refuse blocks the stream and is not returned.
// A read error counts as the end of input (the peer is gone either way). `error` is
// never null here.
gssize inspect(State* s, void* buffer, gssize n, GError** error) {
    bool pass = true;
    if (n > 0)
        pass = !s->hooks.inspect || s->hooks.inspect(std::string_view(static_cast<const char*>(buffer), std::size_t(n)));
    else if (n == 0 || !g_error_matches(*error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK))
        pass = !s->hooks.endOfInput || s->hooks.endOfInput();
    if (pass)
        return n;
    g_clear_error(error);
    s->blocked = true;
    setFailedError(s, error);
    return -1;
}

gssize readBlocking(GInputStream* stream, void* buffer, gsize count, GCancellable* cancellable,
                    GError** error) noexcept {
    State* s = stateOf(stream);
    if (setFailedError(s, error))
        return -1;
    if (count == 0)
        return 0;
    GError* local = nullptr;
    const gssize n = inspect(s, buffer, g_input_stream_read(s->base.get(), buffer, count, cancellable, &local), &local);
    if (local)
        g_propagate_error(error, local);
    return n;
}

// Not the base's: the guard closes that itself, once libsoup is done.
gboolean closeStream(GInputStream* stream, GCancellable*, GError**) noexcept {
    State* s = stateOf(stream);
    if (s->hooks.closed) {
        auto* closed = new std::function<void()>(s->hooks.closed);
        g_idle_add_full(
            G_PRIORITY_DEFAULT,
            [](gpointer data) noexcept -> gboolean {
                (*static_cast<std::function<void()>*>(data))();
                return G_SOURCE_REMOVE;
            },
            closed, [](gpointer data) noexcept { delete static_cast<std::function<void()>*>(data); });
        s->hooks = {};
    }
    return TRUE;
}

// GInputStream would close on a worker thread; closing here does no I/O, so do it at once.
void closeAsync(GInputStream* stream, int, GCancellable* cancellable, GAsyncReadyCallback callback,
                gpointer userData) noexcept {
    GObjectPtr<GTask> task = adopt(g_task_new(stream, cancellable, callback, userData));
    closeStream(stream, cancellable, nullptr);
    g_task_return_boolean(task.get(), TRUE);
}

gboolean closeFinish(GInputStream*, GAsyncResult* result, GError** error) noexcept {
    return g_task_propagate_boolean(G_TASK(result), error);
}

gboolean canPoll(GPollableInputStream* stream) noexcept {
    State* s = stateOf(stream);
    return G_IS_POLLABLE_INPUT_STREAM(s->base.get()) && g_pollable_input_stream_can_poll(G_POLLABLE_INPUT_STREAM(s->base.get()));
}

gboolean isReadable(GPollableInputStream* stream) noexcept {
    State* s = stateOf(stream);
    if (s->failed)
        return TRUE; // the read fails at once
    if (s->blocked)
        return FALSE;
    return g_pollable_input_stream_is_readable(G_POLLABLE_INPUT_STREAM(s->base.get()));
}

GSource* createSource(GPollableInputStream* stream, GCancellable* cancellable) noexcept {
    State* s = stateOf(stream);
    GSource* base = s->blocked || s->failed
                        ? nullptr
                        : g_pollable_input_stream_create_source(G_POLLABLE_INPUT_STREAM(s->base.get()), nullptr);
    GSource* source = g_pollable_source_new_full(stream, base, cancellable);
    if (base)
        g_source_unref(base);
    GSource* wake = g_cancellable_source_new(s->wake.get());
    g_source_set_dummy_callback(wake);
    g_source_add_child_source(source, wake);
    g_source_unref(wake);
    return source;
}

gssize readNonblocking(GPollableInputStream* stream, void* buffer, gsize count, GError** error) noexcept {
    State* s = stateOf(stream);
    if (setFailedError(s, error))
        return -1;
    if (count == 0)
        return 0;
    GError* local = nullptr;
    const gssize n = inspect(s, buffer,
                             g_pollable_input_stream_read_nonblocking(G_POLLABLE_INPUT_STREAM(s->base.get()), buffer,
                                                                      count, nullptr, &local),
                             &local);
    if (local)
        g_propagate_error(error, local);
    return n;
}

} // namespace
} // namespace manifold::server

extern "C" {

static void manifold_guard_input_stream_init(ManifoldGuardInputStream* self) {
    self->state = new manifold::server::State();
}

static void manifold_guard_input_stream_finalize(GObject* object) {
    auto* self = reinterpret_cast<ManifoldGuardInputStream*>(object);
    delete self->state;
    G_OBJECT_CLASS(manifold_guard_input_stream_parent_class)->finalize(object);
}

static void manifold_guard_input_stream_class_init(ManifoldGuardInputStreamClass* klass) {
    G_OBJECT_CLASS(klass)->finalize = manifold_guard_input_stream_finalize;
    GInputStreamClass* input = G_INPUT_STREAM_CLASS(klass);
    input->read_fn = manifold::server::readBlocking;
    input->close_fn = manifold::server::closeStream;
    input->close_async = manifold::server::closeAsync;
    input->close_finish = manifold::server::closeFinish;
}

static void manifold_guard_input_stream_pollable_init(GPollableInputStreamInterface* iface) {
    iface->can_poll = manifold::server::canPoll;
    iface->is_readable = manifold::server::isReadable;
    iface->create_source = manifold::server::createSource;
    iface->read_nonblocking = manifold::server::readNonblocking;
}

} // extern "C"

namespace manifold::server {

GInputStream* guardInputStreamNew(GInputStream* base, GuardInputHooks hooks) {
    auto* stream = static_cast<ManifoldGuardInputStream*>(
        g_object_new(manifold_guard_input_stream_get_type(), nullptr));
    stream->state->base = retain(base);
    stream->state->hooks = std::move(hooks);
    return G_INPUT_STREAM(stream);
}

void guardInputStreamBlock(GInputStream* stream) { stateOf(stream)->blocked = true; }

void guardInputStreamFail(GInputStream* stream) {
    State* s = stateOf(stream);
    s->failed = true;
    g_cancellable_cancel(s->wake.get());
}

void guardInputStreamDetach(GInputStream* stream) { stateOf(stream)->hooks = {}; }

} // namespace manifold::server
