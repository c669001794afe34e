/* tests/unit/test_state.c - every transition of the connection state
 * machine, named one by one and then checked as a whole table. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "internal.h"

#define S1 0x1111
#define S2 0x2222
#define NONE (-1)

enum { CONNECTING = ZKC_STATE_CONNECTING, CONNECTED = ZKC_STATE_CONNECTED,
       SUSPENDED = ZKC_STATE_SUSPENDED, RECONNECTED = ZKC_STATE_RECONNECTED,
       LOST = ZKC_STATE_LOST, CLOSED = ZKC_STATE_CLOSED };

/* A machine in `state` with session S1 established (or none when CONNECTING). */
static zkc__sm_t at(int state)
{
	zkc__sm_t sm;

	zkc__sm_init(&sm);
	sm.state = state;
	sm.session_id = state == CONNECTING ? 0 : S1;
	return sm;
}

/* Feeds one input and checks the announced states (NONE-terminated) and
 * the state the machine ends in. */
static void step(zkc__sm_t *sm, int input, int64_t sid, int want0, int want1, int end)
{
	int out[2] = { NONE, NONE };
	int n = zkc__sm_step(sm, input, sid, out);
	int want_n = (want0 != NONE) + (want1 != NONE);

	assert_int_equal(n, want_n);
	if (want0 != NONE)
		assert_int_equal(out[0], want0);
	if (want1 != NONE)
		assert_int_equal(out[1], want1);
	assert_int_equal(sm->state, end);
}

static void machine_starts_connecting_without_session(void **state)
{
	(void)state;
	zkc__sm_t sm;

	sm.state = 99, sm.session_id = 99;
	zkc__sm_init(&sm);
	assert_int_equal(sm.state, CONNECTING);
	assert_int_equal(sm.session_id, 0);
}

static void connecting_then_connected_announces_connected(void **state)
{
	(void)state;
	zkc__sm_t sm = at(CONNECTING);

	step(&sm, ZKC__IN_CONNECTED, S1, CONNECTED, NONE, CONNECTED);
	assert_int_equal(sm.session_id, S1);
}

static void connecting_then_disconnected_is_silent(void **state)
{
	(void)state;
	zkc__sm_t sm = at(CONNECTING);

	step(&sm, ZKC__IN_DISCONNECTED, 0, NONE, NONE, CONNECTING);
}

static void connecting_expiry_without_any_session_is_silent(void **state)
{
	(void)state;
	zkc__sm_t sm = at(CONNECTING);

	step(&sm, ZKC__IN_EXPIRED, 0, NONE, NONE, CONNECTING);
	step(&sm, ZKC__IN_PRESUMED_LOST, 0, NONE, NONE, CONNECTING);
}

static void connecting_expiry_after_a_session_reports_lost(void **state)
{
	(void)state;
	zkc__sm_t sm = at(CONNECTING);

	sm.session_id = S1;  /* a session had been established */
	step(&sm, ZKC__IN_EXPIRED, 0, LOST, NONE, LOST);
	sm = at(CONNECTING);
	sm.session_id = S1;
	step(&sm, ZKC__IN_PRESUMED_LOST, 0, LOST, NONE, LOST);
}

static void disconnect_while_connected_suspends(void **state)
{
	(void)state;
	zkc__sm_t sm = at(CONNECTED);

	step(&sm, ZKC__IN_DISCONNECTED, 0, SUSPENDED, NONE, SUSPENDED);
	assert_int_equal(sm.session_id, S1);
}

static void disconnect_while_reconnected_suspends(void **state)
{
	(void)state;
	zkc__sm_t sm = at(RECONNECTED);

	step(&sm, ZKC__IN_DISCONNECTED, 0, SUSPENDED, NONE, SUSPENDED);
}

static void disconnect_while_suspended_is_silent(void **state)
{
	(void)state;
	zkc__sm_t sm = at(SUSPENDED);

	step(&sm, ZKC__IN_DISCONNECTED, 0, NONE, NONE, SUSPENDED);
}

static void same_session_back_after_suspend_reconnects(void **state)
{
	(void)state;
	zkc__sm_t sm = at(SUSPENDED);

	step(&sm, ZKC__IN_CONNECTED, S1, RECONNECTED, NONE, RECONNECTED);
	assert_int_equal(sm.session_id, S1);
}

static void new_session_after_suspend_reports_lost_then_connected(void **state)
{
	(void)state;
	zkc__sm_t sm = at(SUSPENDED);

	step(&sm, ZKC__IN_CONNECTED, S2, LOST, CONNECTED, CONNECTED);
	assert_int_equal(sm.session_id, S2);
}

static void expiry_in_every_live_state_reports_lost(void **state)
{
	(void)state;
	const int live[] = { CONNECTED, RECONNECTED, SUSPENDED };

	for (size_t i = 0; i < 3; i++) {
		zkc__sm_t sm = at(live[i]);
		step(&sm, ZKC__IN_EXPIRED, 0, LOST, NONE, LOST);
		sm = at(live[i]);
		step(&sm, ZKC__IN_PRESUMED_LOST, 0, LOST, NONE, LOST);
		assert_int_equal(sm.session_id, S1);  /* kept: the last session */
	}
}

static void lost_then_connected_announces_new_session(void **state)
{
	(void)state;
	zkc__sm_t sm = at(LOST);

	step(&sm, ZKC__IN_CONNECTED, S2, CONNECTED, NONE, CONNECTED);
	assert_int_equal(sm.session_id, S2);
	/* whatever the id, even the old one */
	sm = at(LOST);
	step(&sm, ZKC__IN_CONNECTED, S1, CONNECTED, NONE, CONNECTED);
}

static void lost_ignores_further_disconnects_and_expiries(void **state)
{
	(void)state;
	zkc__sm_t sm = at(LOST);

	step(&sm, ZKC__IN_DISCONNECTED, 0, NONE, NONE, LOST);
	step(&sm, ZKC__IN_EXPIRED, 0, NONE, NONE, LOST);
	step(&sm, ZKC__IN_PRESUMED_LOST, 0, NONE, NONE, LOST);
}

static void new_session_without_expiry_still_reports_lost_first(void **state)
{
	(void)state;
	zkc__sm_t sm = at(CONNECTED);

	step(&sm, ZKC__IN_CONNECTED, S2, LOST, CONNECTED, CONNECTED);
	assert_int_equal(sm.session_id, S2);
	sm = at(RECONNECTED);
	step(&sm, ZKC__IN_CONNECTED, S2, LOST, CONNECTED, CONNECTED);
	assert_int_equal(sm.session_id, S2);
}

static void repeated_connected_for_same_session_is_silent(void **state)
{
	(void)state;
	zkc__sm_t sm = at(CONNECTED);

	step(&sm, ZKC__IN_CONNECTED, S1, NONE, NONE, CONNECTED);
	sm = at(RECONNECTED);
	step(&sm, ZKC__IN_CONNECTED, S1, NONE, NONE, RECONNECTED);
}

static void close_from_every_open_state_announces_closed(void **state)
{
	(void)state;
	const int open[] = { CONNECTING, CONNECTED, SUSPENDED, RECONNECTED, LOST };

	for (size_t i = 0; i < 5; i++) {
		zkc__sm_t sm = at(open[i]);
		step(&sm, ZKC__IN_CLOSE, 0, CLOSED, NONE, CLOSED);
	}
}

static void closed_machine_ignores_everything(void **state)
{
	(void)state;
	zkc__sm_t sm = at(CLOSED);

	for (int in = ZKC__IN_CONNECTED; in <= ZKC__IN_CLOSE; in++) {
		step(&sm, in, S1, NONE, NONE, CLOSED);
		step(&sm, in, S2, NONE, NONE, CLOSED);
	}
}

static void unknown_input_is_ignored(void **state)
{
	(void)state;
	zkc__sm_t sm = at(CONNECTED);

	step(&sm, 0, S1, NONE, NONE, CONNECTED);
	step(&sm, 42, S2, NONE, NONE, CONNECTED);
	assert_int_equal(sm.session_id, S1);
}

/* A whole life: connect, blip, blip, expiry, new session, close. */
static void session_life_announces_states_in_order(void **state)
{
	(void)state;
	zkc__sm_t sm;

	zkc__sm_init(&sm);
	step(&sm, ZKC__IN_DISCONNECTED, 0, NONE, NONE, CONNECTING);
	step(&sm, ZKC__IN_CONNECTED, S1, CONNECTED, NONE, CONNECTED);
	step(&sm, ZKC__IN_DISCONNECTED, 0, SUSPENDED, NONE, SUSPENDED);
	step(&sm, ZKC__IN_CONNECTED, S1, RECONNECTED, NONE, RECONNECTED);
	step(&sm, ZKC__IN_DISCONNECTED, 0, SUSPENDED, NONE, SUSPENDED);
	step(&sm, ZKC__IN_PRESUMED_LOST, 0, LOST, NONE, LOST);
	step(&sm, ZKC__IN_EXPIRED, 0, NONE, NONE, LOST);
	step(&sm, ZKC__IN_CONNECTED, S2, CONNECTED, NONE, CONNECTED);
	assert_int_equal(sm.session_id, S2);
	step(&sm, ZKC__IN_CLOSE, 0, CLOSED, NONE, CLOSED);
	step(&sm, ZKC__IN_CONNECTED, S2, NONE, NONE, CLOSED);
}

/* The complete table: state x input x (same / other session id). */
static void every_state_and_input_follows_the_table(void **state)
{
	(void)state;
	struct row {
		int from, input;
		int64_t sid;
		int out0, out1, to;
	} rows[] = {
		{ CONNECTING, ZKC__IN_CONNECTED, S1, CONNECTED, NONE, CONNECTED },
		{ CONNECTING, ZKC__IN_CONNECTED, S2, CONNECTED, NONE, CONNECTED },
		{ CONNECTING, ZKC__IN_DISCONNECTED, 0, NONE, NONE, CONNECTING },
		{ CONNECTING, ZKC__IN_EXPIRED, 0, NONE, NONE, CONNECTING },
		{ CONNECTING, ZKC__IN_PRESUMED_LOST, 0, NONE, NONE, CONNECTING },
		{ CONNECTING, ZKC__IN_CLOSE, 0, CLOSED, NONE, CLOSED },

		{ CONNECTED, ZKC__IN_CONNECTED, S1, NONE, NONE, CONNECTED },
		{ CONNECTED, ZKC__IN_CONNECTED, S2, LOST, CONNECTED, CONNECTED },
		{ CONNECTED, ZKC__IN_DISCONNECTED, 0, SUSPENDED, NONE, SUSPENDED },
		{ CONNECTED, ZKC__IN_EXPIRED, 0, LOST, NONE, LOST },
		{ CONNECTED, ZKC__IN_PRESUMED_LOST, 0, LOST, NONE, LOST },
		{ CONNECTED, ZKC__IN_CLOSE, 0, CLOSED, NONE, CLOSED },

		{ SUSPENDED, ZKC__IN_CONNECTED, S1, RECONNECTED, NONE, RECONNECTED },
		{ SUSPENDED, ZKC__IN_CONNECTED, S2, LOST, CONNECTED, CONNECTED },
		{ SUSPENDED, ZKC__IN_DISCONNECTED, 0, NONE, NONE, SUSPENDED },
		{ SUSPENDED, ZKC__IN_EXPIRED, 0, LOST, NONE, LOST },
		{ SUSPENDED, ZKC__IN_PRESUMED_LOST, 0, LOST, NONE, LOST },
		{ SUSPENDED, ZKC__IN_CLOSE, 0, CLOSED, NONE, CLOSED },

		{ RECONNECTED, ZKC__IN_CONNECTED, S1, NONE, NONE, RECONNECTED },
		{ RECONNECTED, ZKC__IN_CONNECTED, S2, LOST, CONNECTED, CONNECTED },
		{ RECONNECTED, ZKC__IN_DISCONNECTED, 0, SUSPENDED, NONE, SUSPENDED },
		{ RECONNECTED, ZKC__IN_EXPIRED, 0, LOST, NONE, LOST },
		{ RECONNECTED, ZKC__IN_PRESUMED_LOST, 0, LOST, NONE, LOST },
		{ RECONNECTED, ZKC__IN_CLOSE, 0, CLOSED, NONE, CLOSED },

		{ LOST, ZKC__IN_CONNECTED, S1, CONNECTED, NONE, CONNECTED },
		{ LOST, ZKC__IN_CONNECTED, S2, CONNECTED, NONE, CONNECTED },
		{ LOST, ZKC__IN_DISCONNECTED, 0, NONE, NONE, LOST },
		{ LOST, ZKC__IN_EXPIRED, 0, NONE, NONE, LOST },
		{ LOST, ZKC__IN_PRESUMED_LOST, 0, NONE, NONE, LOST },
		{ LOST, ZKC__IN_CLOSE, 0, CLOSED, NONE, CLOSED },

		{ CLOSED, ZKC__IN_CONNECTED, S1, NONE, NONE, CLOSED },
		{ CLOSED, ZKC__IN_CONNECTED, S2, NONE, NONE, CLOSED },
		{ CLOSED, ZKC__IN_DISCONNECTED, 0, NONE, NONE, CLOSED },
		{ CLOSED, ZKC__IN_EXPIRED, 0, NONE, NONE, CLOSED },
		{ CLOSED, ZKC__IN_PRESUMED_LOST, 0, NONE, NONE, CLOSED },
		{ CLOSED, ZKC__IN_CLOSE, 0, NONE, NONE, CLOSED },
	};

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		zkc__sm_t sm = at(rows[i].from);
		int64_t want_sid = rows[i].out0 == CONNECTED || rows[i].out1 == CONNECTED
		                           ? rows[i].sid
		                           : sm.session_id;

		step(&sm, rows[i].input, rows[i].sid, rows[i].out0, rows[i].out1, rows[i].to);
		assert_int_equal(sm.session_id, want_sid);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(machine_starts_connecting_without_session),
		cmocka_unit_test(connecting_then_connected_announces_connected),
		cmocka_unit_test(connecting_then_disconnected_is_silent),
		cmocka_unit_test(connecting_expiry_without_any_session_is_silent),
		cmocka_unit_test(connecting_expiry_after_a_session_reports_lost),
		cmocka_unit_test(disconnect_while_connected_suspends),
		cmocka_unit_test(disconnect_while_reconnected_suspends),
		cmocka_unit_test(disconnect_while_suspended_is_silent),
		cmocka_unit_test(same_session_back_after_suspend_reconnects),
		cmocka_unit_test(new_session_after_suspend_reports_lost_then_connected),
		cmocka_unit_test(expiry_in_every_live_state_reports_lost),
		cmocka_unit_test(lost_then_connected_announces_new_session),
		cmocka_unit_test(lost_ignores_further_disconnects_and_expiries),
		cmocka_unit_test(new_session_without_expiry_still_reports_lost_first),
		cmocka_unit_test(repeated_connected_for_same_session_is_silent),
		cmocka_unit_test(close_from_every_open_state_announces_closed),
		cmocka_unit_test(closed_machine_ignores_everything),
		cmocka_unit_test(unknown_input_is_ignored),
		cmocka_unit_test(session_life_announces_states_in_order),
		cmocka_unit_test(every_state_and_input_follows_the_table),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
