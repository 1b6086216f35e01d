"""Tests of peers_table.py on serial captures of real runs under -icount
(testdata/): biscotti's bench=sched on 2 CPUs, the Linux boot of tools/peers
on 2 CPUs (quiet, with Go's pinned cross-CPU ping-pongs; and an older one
with every kernel message kept, before they existed) and on 1 (quiet; the
2-CPU benchmarks skip), as well as hand-cut failures."""

import os
import unittest

import peers_table

TESTDATA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "testdata")


def capture(name):
    with open(os.path.join(TESTDATA, name), newline="") as f:
        return f.read()


class ParseTest(unittest.TestCase):
    def test_biscotti_capture(self):
        figures = peers_table.parse_biscotti(capture("biscotti_bench_sched_smp2.log"))
        self.assertEqual(
            figures, {
                "sched.yield_round_trip": 247,
                "sched.futex_ping_pong_1_cpu": 702,
                "sched.futex_ping_pong_2_cpus": 1444,
                "sched.spawn_join_empty_thread": 1044,
                "sched.mutex_uncontended_lock_unlock": 13,
            })

    def test_linux_capture_with_cr_lf(self):
        text = capture("linux_icount_smp2.log")
        self.assertIn("\r\n", text)  # the serial port's line ends
        figures = peers_table.parse_peers(text)
        self.assertEqual(
            figures["linux"], {
                "yield_round_trip": 944.8,
                "futex_ping_pong_1_cpu": 7395.1,
                "futex_ping_pong_2_cpus": 14882.2,
                "spawn_join": 78687.7,
                "mutex_pair": 63.2,
            })
        self.assertEqual(
            figures["go"], {
                "yield_round_trip": 1182.9,
                "futex_ping_pong_1_cpu": 2348.6,
                "futex_ping_pong_2_cpus": 2359.7,
                "spawn_join": 3038.2,
                "mutex_pair": 20.0,
            })

    def test_pinned_capture(self):
        figures = peers_table.parse_peers(capture("linux_icount_smp2_pinned.log"))
        self.assertEqual(
            figures["go"], {
                "yield_round_trip": 1188.1,
                "futex_ping_pong_1_cpu": 2348.6,
                "spawn_join": 3056.5,
                "mutex_pair": 20.0,
                "futex_ping_pong_2_cpus": 2353.6,
                "futex_ping_pong_2_cpus_pinned": 39527.5,
                "futex_ping_pong_2_cpus_pinned_futex": 16960.4,
            })
        self.assertEqual(figures["linux"]["futex_ping_pong_2_cpus"], 14888.3)
        self.assertEqual(figures["info"], [
            "go: unpinned, the channel partner ran on another CPU than the pinger in 0 of 1000 round trips"
        ])

    def test_one_cpu_capture_skips(self):
        figures = peers_table.parse_peers(capture("linux_icount_smp1.log"))
        self.assertEqual(figures["linux"]["futex_ping_pong_2_cpus"], peers_table.SKIPPED)
        self.assertEqual(figures["go"]["futex_ping_pong_2_cpus"], peers_table.SKIPPED)
        self.assertEqual(figures["go"]["futex_ping_pong_2_cpus_pinned"], peers_table.SKIPPED)
        self.assertEqual(figures["go"]["futex_ping_pong_2_cpus_pinned_futex"], peers_table.SKIPPED)
        self.assertEqual(figures["go"]["yield_round_trip"], 961.2)
        self.assertEqual(len(figures["linux"]), 5)
        self.assertEqual(len(figures["go"]), 7)
        self.assertEqual(figures["info"], [])

    def test_a_run_cut_short_is_an_error(self):
        text = capture("linux_icount_smp2.log")
        cut = text[:text.index("peer go.spawn_join")]
        with self.assertRaisesRegex(peers_table.PeersError, "no 'peer: done' line"):
            peers_table.parse_peers(cut)

    def test_a_reported_failure_is_an_error(self):
        text = "peer linux: 2 CPUs online\npeer go error: /gobench 1cpu failed (wait status 0x200)\npeer: done\n"
        with self.assertRaisesRegex(peers_table.PeersError, r"/gobench 1cpu failed"):
            peers_table.parse_peers(text)

    def test_a_pin_that_did_not_hold_is_an_error(self):
        # gobench/pinned.go's check: a 2-CPU figure from one CPU is no figure.
        text = "peer go error: the partner pinned to CPU 1 runs on CPU 0\r\npeer: done\r\n"
        with self.assertRaisesRegex(peers_table.PeersError, r"go: the partner pinned to CPU 1 runs on CPU 0"):
            peers_table.parse_peers(text)

    def test_info_lines_are_kept_in_order(self):
        text = "peer go info: first\r\npeer linux info: second\r\npeer: done\r\n"
        self.assertEqual(peers_table.parse_peers(text)["info"], ["go: first", "linux: second"])

    def test_a_kernel_message_on_the_same_line(self):
        text = "[    9.1] random: crng init done\rpeer linux.mutex_pair cycles=15.0\r\npeer: done\r\n"
        self.assertEqual(peers_table.parse_peers(text)["linux"], {"mutex_pair": 15.0})


class TableTest(unittest.TestCase):
    def setUp(self):
        self.peers = peers_table.parse_peers(capture("linux_icount_smp2_pinned.log"))
        self.biscotti = peers_table.parse_biscotti(capture("biscotti_bench_sched_smp2.log"))

    def test_formats_every_row(self):
        text = peers_table.table(self.peers, self.biscotti, "Linux 6.1.192-3", "Go 1.19.8")
        lines = text.splitlines()
        self.assertEqual(lines[0], "| primitive | Linux 6.1.192-3 | Go 1.19.8 | biscotti | best peer / biscotti |")
        self.assertEqual(lines[2], "| yield round trip, 1 CPU | 944 (sched_yield) | 1,188 (Gosched) | 247 | 3.82× |")
        # Go's 2-CPU figure is its pinned, cross-CPU one; the best peer is
        # then Linux.
        self.assertEqual(lines[4],
                         "| futex ping-pong, 2 CPUs | 14,888 (futex) | 39,528 (chan, pinned) | 1,444 | 10.31× |")
        self.assertEqual(lines[5], "| spawn + join | 77,460 (pthread_create+join) | 3,056 (go+WaitGroup) | 1,044 | 2.93× |")
        # Small figures keep their decimal; biscotti's are whole.
        self.assertEqual(lines[6], "| uncontended mutex pair | 63.2 (pthread_mutex) | 20.0 (sync.Mutex) | 13 | 1.54× |")
        self.assertEqual(len(lines), 2 + len(peers_table.ROWS))

    def test_small_figures(self):
        peers = {"linux": {r[1]: 15.04 for r in peers_table.ROWS}, "go": {r[3]: 21.0 for r in peers_table.ROWS}}
        biscotti = {r[5]: 13 for r in peers_table.ROWS}
        row = peers_table.table(peers, biscotti).splitlines()[2]
        self.assertEqual(row, "| yield round trip, 1 CPU | 15.0 (sched_yield) | 21.0 (Gosched) | 13 | 1.16× |")

    def test_behind_shows_below_one(self):
        self.biscotti["sched.mutex_uncontended_lock_unlock"] = 500
        row = peers_table.table(self.peers, self.biscotti).splitlines()[6]
        self.assertTrue(row.endswith("| 500 | 0.04× |"), row)

    def test_the_unpinned_go_figure_is_not_the_rows(self):
        # Go's unpinned ping-pong (same CPU, 2,354) must not stand in for
        # the 2-CPU row: without the pinned figure the row is missing.
        del self.peers["go"]["futex_ping_pong_2_cpus_pinned"]
        with self.assertRaisesRegex(peers_table.PeersError,
                                    r"no figure for go.futex_ping_pong_2_cpus_pinned \(Go\)"):
            peers_table.table(self.peers, self.biscotti)

    def test_missing_figures_are_named(self):
        del self.peers["go"]["mutex_pair"]
        del self.biscotti["sched.spawn_join_empty_thread"]
        with self.assertRaisesRegex(peers_table.PeersError,
                                    r"no figure for sched.spawn_join_empty_thread \(biscotti\), "
                                    r"go.mutex_pair \(Go\)"):
            peers_table.table(self.peers, self.biscotti)

    def test_one_cpu_row(self):
        self.peers = peers_table.parse_peers(capture("linux_icount_smp1.log"))
        self.biscotti["sched.futex_ping_pong_2_cpus"] = peers_table.SKIPPED
        row = peers_table.table(self.peers, self.biscotti).splitlines()[4]
        self.assertEqual(row, "| futex ping-pong, 2 CPUs | — (futex) | — (chan, pinned) | — | — |")


class NotesTest(unittest.TestCase):
    def test_notes_of_a_two_cpu_run(self):
        peers = peers_table.parse_peers(capture("linux_icount_smp2_pinned.log"))
        self.assertEqual(peers_table.notes(peers), [
            "Go, futex ping-pong on 2 CPUs unpinned (GOMAXPROCS=2; the runtime places the goroutines): 2,354",
            "Go, futex ping-pong across pinned CPUs 0 and 1 over a raw futex (syscall.Syscall6): 16,960",
            "go: unpinned, the channel partner ran on another CPU than the pinger in 0 of 1000 round trips",
        ])

    def test_notes_of_a_one_cpu_run(self):
        peers = peers_table.parse_peers(capture("linux_icount_smp1.log"))
        self.assertEqual([line.rsplit(": ", 1)[1] for line in peers_table.notes(peers)], ["—", "—"])

    def test_a_missing_note_figure_is_named(self):
        # The capture from before the pinned variants has no raw-futex figure.
        peers = peers_table.parse_peers(capture("linux_icount_smp2.log"))
        with self.assertRaisesRegex(peers_table.PeersError, r"no figure for go.futex_ping_pong_2_cpus_pinned_futex:"):
            peers_table.notes(peers)


if __name__ == "__main__":
    unittest.main()
