"""Tests of peers_table.py on serial captures of real runs under -icount
(testdata/): biscotti's bench=sched on 2 CPUs, the Linux boot of tools/peers
on 2 CPUs (every kernel message kept) and on 1 (quiet; the 2-CPU benchmarks
skip), as well as hand-cut failures."""

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
                "sched.futex_ping_pong_2_cpus": 2410,
                "sched.spawn_join_empty_thread": 1008,
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

    def test_one_cpu_capture_skips(self):
        figures = peers_table.parse_peers(capture("linux_icount_smp1.log"))
        self.assertEqual(figures["linux"]["futex_ping_pong_2_cpus"], peers_table.SKIPPED)
        self.assertEqual(figures["go"]["futex_ping_pong_2_cpus"], peers_table.SKIPPED)
        self.assertEqual(figures["go"]["yield_round_trip"], 962.0)
        self.assertEqual(len(figures["linux"]), 5)
        self.assertEqual(len(figures["go"]), 5)

    def test_a_run_cut_short_is_an_error(self):
        text = capture("linux_icount_smp2.log")
        cut = text[:text.index("peer go.spawn_join")]
        with self.assertRaisesRegex(peers_table.PeersError, "no 'peer: done' line"):
            peers_table.parse_peers(cut)

    def test_a_reported_failure_is_an_error(self):
        text = "peer linux: 2 CPUs online\npeer go error: /gobench 1cpu failed (wait status 0x200)\npeer: done\n"
        with self.assertRaisesRegex(peers_table.PeersError, r"/gobench 1cpu failed"):
            peers_table.parse_peers(text)

    def test_a_kernel_message_on_the_same_line(self):
        text = "[    9.1] random: crng init done\rpeer linux.mutex_pair cycles=15.0\r\npeer: done\r\n"
        self.assertEqual(peers_table.parse_peers(text)["linux"], {"mutex_pair": 15.0})


class TableTest(unittest.TestCase):
    def setUp(self):
        self.peers = peers_table.parse_peers(capture("linux_icount_smp2.log"))
        self.biscotti = peers_table.parse_biscotti(capture("biscotti_bench_sched_smp2.log"))

    def test_formats_every_row(self):
        text = peers_table.table(self.peers, self.biscotti, "Linux 6.1.192-3", "Go 1.19.8")
        lines = text.splitlines()
        self.assertEqual(lines[0], "| primitive | Linux 6.1.192-3 | Go 1.19.8 | biscotti | best peer / biscotti |")
        self.assertEqual(lines[2], "| yield round trip, 1 CPU | 945 (sched_yield) | 1,183 (Gosched) | 247 | 3.83× |")
        self.assertEqual(lines[4], "| futex ping-pong, 2 CPUs | 14,882 (futex) | 2,360 (chan) | 2,410 | 0.98× |")
        self.assertEqual(lines[5], "| spawn + join | 78,688 (pthread_create+join) | 3,038 (go+WaitGroup) | 1,008 | 3.01× |")
        # Small figures keep their decimal; biscotti's are whole.
        self.assertEqual(lines[6], "| uncontended mutex pair | 63.2 (pthread_mutex) | 20.0 (sync.Mutex) | 13 | 1.54× |")
        self.assertEqual(len(lines), 2 + len(peers_table.ROWS))

    def test_small_figures(self):
        peers = {"linux": {r[1]: 15.04 for r in peers_table.ROWS}, "go": {r[1]: 21.0 for r in peers_table.ROWS}}
        biscotti = {r[4]: 13 for r in peers_table.ROWS}
        row = peers_table.table(peers, biscotti).splitlines()[2]
        self.assertEqual(row, "| yield round trip, 1 CPU | 15.0 (sched_yield) | 21.0 (Gosched) | 13 | 1.16× |")

    def test_behind_shows_below_one(self):
        self.biscotti["sched.mutex_uncontended_lock_unlock"] = 500
        row = peers_table.table(self.peers, self.biscotti).splitlines()[6]
        self.assertTrue(row.endswith("| 500 | 0.04× |"), row)

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
        self.assertEqual(row, "| futex ping-pong, 2 CPUs | — (futex) | — (chan) | — | — |")


if __name__ == "__main__":
    unittest.main()
