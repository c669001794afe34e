/* src/state.c - the connection state machine: libzookeeper's session
 * events in, the public states to announce out. Pure, so every transition
 * is unit-tested. */
#include "internal.h"

void zkc__sm_init(zkc__sm_t *sm)
{
	sm->state = ZKC_STATE_CONNECTING;
	sm->session_id = 0;
}

static int emit(zkc__sm_t *sm, int out[2], int n, int state)
{
	sm->state = state;
	out[n] = state;
	return n + 1;
}

static int on_connected(zkc__sm_t *sm, int64_t sid, int out[2])
{
	int n = 0;

	switch (sm->state) {
	case ZKC_STATE_CONNECTING:
	case ZKC_STATE_LOST:
		break;
	case ZKC_STATE_SUSPENDED:
		if (sid == sm->session_id)
			return emit(sm, out, 0, ZKC_STATE_RECONNECTED);
		n = emit(sm, out, 0, ZKC_STATE_LOST);
		break;
	default:  /* CONNECTED, RECONNECTED */
		if (sid == sm->session_id)
			return 0;
		/* A new session without an expiry seen first: recipes must
		 * still hear LOST before it. */
		n = emit(sm, out, 0, ZKC_STATE_LOST);
		break;
	}
	sm->session_id = sid;
	return emit(sm, out, n, ZKC_STATE_CONNECTED);
}

int zkc__sm_step(zkc__sm_t *sm, int input, int64_t session_id, int out[2])
{
	int st = sm->state;

	if (st == ZKC_STATE_CLOSED)
		return 0;
	switch (input) {
	case ZKC__IN_CLOSE:
		return emit(sm, out, 0, ZKC_STATE_CLOSED);
	case ZKC__IN_CONNECTED:
		return on_connected(sm, session_id, out);
	case ZKC__IN_DISCONNECTED:
		if (st == ZKC_STATE_CONNECTED || st == ZKC_STATE_RECONNECTED)
			return emit(sm, out, 0, ZKC_STATE_SUSPENDED);
		return 0;
	case ZKC__IN_EXPIRED:
	case ZKC__IN_PRESUMED_LOST:
		if (st == ZKC_STATE_LOST)
			return 0;
		/* Before any session there is nothing to lose. */
		if (st == ZKC_STATE_CONNECTING && sm->session_id == 0)
			return 0;
		return emit(sm, out, 0, ZKC_STATE_LOST);
	default:
		return 0;
	}
}
