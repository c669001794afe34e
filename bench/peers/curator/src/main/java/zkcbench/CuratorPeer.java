// bench/peers/curator - Apache Curator's side of `bench/run peers`: the same
// scenarios, arguments and JSON line as bench/peers/zkc_peer.c, each the way
// Curator's documentation shows (InterProcessMutex, DistributedAtomicLong,
// SimpleDistributedQueue, CuratorCache, getData in the background).
package zkcbench;

import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.framework.recipes.atomic.AtomicValue;
import org.apache.curator.framework.recipes.atomic.DistributedAtomicLong;
import org.apache.curator.framework.recipes.cache.CuratorCache;
import org.apache.curator.framework.recipes.cache.CuratorCacheListener;
import org.apache.curator.framework.recipes.locks.InterProcessMutex;
import org.apache.curator.framework.recipes.queue.SimpleDistributedQueue;
import org.apache.curator.retry.ExponentialBackoffRetry;
import org.apache.curator.retry.RetryNTimes;
import org.apache.zookeeper.data.Stat;

public final class CuratorPeer {
    static String connect, scenario, root = "/bench-peers-curator";
    static int clients = 1;
    static double seconds = 3, warmup = 3;
    static final int PIPELINE = 100;

    static long tStart, tEnd;            // System.nanoTime()
    static long[][] counts;              // [client][window]
    static final List<Double> samples = new ArrayList<>();  // client 0, seconds

    interface Loop { void run(int client, CuratorFramework c) throws Exception; }

    static CuratorFramework open() throws Exception {
        CuratorFramework c = CuratorFrameworkFactory.newClient(connect, 10000, 15000,
                new ExponentialBackoffRetry(100, 5));
        c.start();
        if (!c.blockUntilConnected(30, TimeUnit.SECONDS))
            throw new IllegalStateException("no connection in 30 s");
        return c;
    }

    static double cpuSeconds() {
        return ((com.sun.management.OperatingSystemMXBean)
                ManagementFactory.getOperatingSystemMXBean()).getProcessCpuTime() / 1e9;
    }

    /** Counts an op that ended at t1; false once the measured interval is over. */
    static boolean record(int client, long t0, long t1, int n) {
        if (t1 >= tEnd) return false;
        if (t1 < tStart) return true;
        int w = (int) ((t1 - tStart) / 1_000_000_000L);
        synchronized (samples) {
            if (w < counts[client].length) counts[client][w] += n;
            if (client == 0)
                for (int i = 0; i < n; i++) samples.add((t1 - t0) / 1e9);
        }
        return true;
    }

    static double pct(double p) {
        if (samples.isEmpty()) return -1;
        return samples.get((int) (p * (samples.size() - 1))) * 1e6;
    }

    static void report(double cpu, String label, String extra) {
        long total = 0, minWindow = -1;
        long[] per = new long[counts.length];
        for (int c = 0; c < counts.length; c++) {
            for (int w = 0; w < counts[c].length; w++) {
                per[c] += counts[c][w];
                if (w < (int) seconds && (minWindow < 0 || counts[c][w] < minWindow)) minWindow = counts[c][w];
            }
            total += per[c];
        }
        samples.sort(null);
        StringBuilder pc = new StringBuilder();
        for (int c = 0; c < per.length; c++) pc.append(c > 0 ? ", " : "").append(per[c]);
        System.out.printf(java.util.Locale.ROOT,
                "{\"peer\": \"curator\", \"scenario\": \"%s\", \"clients\": %d, \"seconds\": %.3f, "
                + "\"ops\": %d, \"rate_per_s\": %.1f, \"p50_us\": %.2f, \"p99_us\": %.2f, \"max_us\": %.2f, "
                + "\"cpu_us_per_op\": %.2f, \"min_window_ops\": %d, \"per_client\": [%s], "
                + "\"implementation\": \"%s\"%s}%n",
                scenario, counts.length, seconds, total, total / seconds, pct(0.5), pct(0.99), pct(1.0),
                total > 0 ? cpu / total * 1e6 : -1.0, minWindow, pc, label,
                extra == null ? "" : ", " + extra);
    }

    static void runClients(Loop loop, String label) throws Exception {
        CuratorFramework[] cs = new CuratorFramework[clients];
        counts = new long[clients][(int) seconds + 1];
        for (int i = 0; i < clients; i++) cs[i] = open();
        CyclicBarrier go = new CyclicBarrier(clients + 1);
        AtomicReference<Throwable> failure = new AtomicReference<>();
        Thread[] th = new Thread[clients];
        for (int i = 0; i < clients; i++) {
            final int idx = i;
            th[i] = new Thread(() -> {
                try {
                    go.await();
                    loop.run(idx, cs[idx]);
                } catch (Throwable t) {
                    failure.compareAndSet(null, t);
                }
            });
            th[i].start();
        }
        tStart = System.nanoTime() + (long) (warmup * 1e9);
        tEnd = tStart + (long) (seconds * 1e9);
        go.await();
        while (System.nanoTime() < tStart) Thread.sleep(1);
        double cpu0 = cpuSeconds();
        for (Thread t : th) t.join();
        double cpu = cpuSeconds() - cpu0;
        if (failure.get() != null) throw new RuntimeException(failure.get());
        report(cpu, label, null);
        for (CuratorFramework c : cs) c.close();
    }

    static void lockLoop(int client, CuratorFramework c) throws Exception {
        InterProcessMutex m = new InterProcessMutex(c, root + "/lock");
        for (;;) {
            long t0 = System.nanoTime();
            m.acquire();
            m.release();
            if (!record(client, t0, System.nanoTime(), 1)) return;
        }
    }

    static void counterLoop(int client, CuratorFramework c) throws Exception {
        DistributedAtomicLong ctr = new DistributedAtomicLong(c, root + "/counter", new RetryNTimes(1000, 1));
        for (;;) {
            long t0 = System.nanoTime();
            AtomicValue<Long> v;
            do {
                v = ctr.increment();
            } while (!v.succeeded());
            if (!record(client, t0, System.nanoTime(), 1)) return;
        }
    }

    static void queueLoop(int client, CuratorFramework c) throws Exception {
        SimpleDistributedQueue q = new SimpleDistributedQueue(c, root + "/queue-" + client);
        byte[] item = "item".getBytes();
        for (;;) {
            long t0 = System.nanoTime();
            q.offer(item);
            if (q.poll(10, TimeUnit.SECONDS) == null) throw new IllegalStateException("take timed out");
            if (!record(client, t0, System.nanoTime(), 1)) return;
        }
    }

    /** Failover: sequential sets (Curator retries by its policy; a set that
     *  still fails is tried again) while bench/peers/run kills the leader. */
    static void setLoop(int client, CuratorFramework c) throws Exception {
        String path = root + "/node";
        byte[] data = new byte[100];
        for (;;) {
            long t0 = System.nanoTime();
            for (;;) {
                try {
                    c.setData().forPath(path, data);
                    break;
                } catch (org.apache.zookeeper.KeeperException e) {
                    Thread.sleep(10);
                }
            }
            if (!record(client, t0, System.nanoTime(), 1)) return;
        }
    }

    static void getLoop(int client, CuratorFramework c) throws Exception {
        String path = root + "/node";
        for (;;) {
            long t0 = System.nanoTime();
            c.getData().forPath(path);
            if (!record(client, t0, System.nanoTime(), 1)) return;
        }
    }

    static void pipelinedGetLoop(int client, CuratorFramework c) throws Exception {
        String path = root + "/node";
        for (;;) {
            long t0 = System.nanoTime();
            CountDownLatch done = new CountDownLatch(PIPELINE);
            for (int i = 0; i < PIPELINE; i++)
                c.getData().inBackground((cl, ev) -> done.countDown()).forPath(path);
            if (!done.await(30, TimeUnit.SECONDS)) throw new IllegalStateException("gets timed out");
            if (!record(client, t0, System.nanoTime(), PIPELINE)) return;
        }
    }

    static void cacheScenario() throws Exception {
        CuratorFramework c = open(), writer = open();
        String path = root + "/node";
        ConcurrentHashMap<Integer, Long> seen = new ConcurrentHashMap<>();
        CuratorCache cache = CuratorCache.build(c, path);
        cache.listenable().addListener(CuratorCacheListener.builder()
                .forChanges((oldNode, node) -> {
                    synchronized (seen) {
                        seen.put(node.getStat().getVersion(), System.nanoTime());
                        seen.notifyAll();
                    }
                }).build());
        cache.start();
        long deadline = System.nanoTime() + 30_000_000_000L;
        while (cache.get(path).isEmpty()) {
            if (System.nanoTime() > deadline) throw new IllegalStateException("cache did not load");
            Thread.sleep(10);
        }
        long end = System.nanoTime() + (long) (warmup * 1e9);
        long sink = 0;
        while (System.nanoTime() < end) sink += cache.get(path).get().getData().length;
        counts = new long[1][1];
        double cpu0 = cpuSeconds();
        long t0 = System.nanoTime();
        end = t0 + (long) (seconds * 1e9);
        long reads = 0;
        double[] lat = new double[4_000_000];
        int n = 0;
        for (;;) {
            long a = System.nanoTime();
            sink += cache.get(path).get().getData().length;
            long b = System.nanoTime();
            if (n < lat.length) lat[n++] = (b - a) / 1e9;
            reads++;
            if (b >= end || n == lat.length) break;
        }
        double cpu = cpuSeconds() - cpu0;
        seconds = (System.nanoTime() - t0) / 1e9;
        counts[0][0] = reads;
        Arrays.sort(lat, 0, n);
        for (int i = 0; i < n; i += Math.max(1, n / 100000)) samples.add(lat[i]);
        double[] prop = new double[200];
        int np = 0;
        for (int i = 0; i < 200; i++) {
            Stat st = writer.setData().forPath(path, new byte[100]);
            long acked = System.nanoTime();
            long until = acked + 10_000_000_000L;
            synchronized (seen) {
                while (!seen.containsKey(st.getVersion()) && System.nanoTime() < until) seen.wait(10);
            }
            Long at = seen.get(st.getVersion());
            if (at != null) prop[np++] = Math.max(0, at - acked) / 1e9;
        }
        Arrays.sort(prop, 0, np);
        report(cpu, "CuratorCache", String.format(java.util.Locale.ROOT,
                "\"change_to_cache_p50_us\": %.1f, \"change_to_cache_n\": %d, \"sink\": %d",
                np > 0 ? prop[np / 2] * 1e6 : -1.0, np, sink % 2));
        cache.close();
        writer.close();
        c.close();
    }

    public static void main(String[] args) throws Exception {
        for (int i = 0; i + 1 < args.length; i += 2) {
            switch (args[i]) {
                case "--connect": connect = args[i + 1]; break;
                case "--scenario": scenario = args[i + 1]; break;
                case "--clients": clients = Integer.parseInt(args[i + 1]); break;
                case "--seconds": seconds = Double.parseDouble(args[i + 1]); break;
                case "--warmup": warmup = Double.parseDouble(args[i + 1]); break;
                case "--root": root = args[i + 1]; break;
                default: usage();
            }
        }
        if (connect == null || scenario == null) usage();
        if (scenario.equals("treeload")) {
            treeLoad();
            System.exit(0);
        }
        CuratorFramework admin = open();
        admin.createContainers(root);
        if (Arrays.asList("get", "pipelined_get", "cache", "failover").contains(scenario)
                && admin.checkExists().forPath(root + "/node") == null)
            admin.create().forPath(root + "/node", new byte[100]);
        switch (scenario) {
            case "lock": case "handoff": runClients(CuratorPeer::lockLoop, "InterProcessMutex"); break;
            case "counter": runClients(CuratorPeer::counterLoop, "DistributedAtomicLong"); break;
            case "queue": runClients(CuratorPeer::queueLoop, "SimpleDistributedQueue (offer, poll)"); break;
            case "get": runClients(CuratorPeer::getLoop, "getData"); break;
            case "failover": runClients(CuratorPeer::setLoop, "setData, ExponentialBackoffRetry(100 ms, 5), then again"); break;
            case "pipelined_get": runClients(CuratorPeer::pipelinedGetLoop, "getData inBackground, 100 in flight"); break;
            case "cache": cacheScenario(); break;
            default: usage();
        }
        admin.delete().deletingChildrenIfNeeded().forPath(root);
        admin.close();
        System.exit(0);
    }

    /** Time from CuratorCache.start() to its initialized event over an
     *  existing tree at --root (made by bench/scale/zkc_scale). */
    static void treeLoad() throws Exception {
        CuratorFramework c = open();
        CountDownLatch done = new CountDownLatch(1);
        CuratorCache cache = CuratorCache.build(c, root);
        cache.listenable().addListener(CuratorCacheListener.builder()
                .forInitialized(done::countDown).build());
        long t0 = System.nanoTime();
        cache.start();
        if (!done.await(600, TimeUnit.SECONDS)) throw new IllegalStateException("not initialized in 600 s");
        System.out.printf(java.util.Locale.ROOT,
                "{\"peer\": \"curator\", \"scenario\": \"treeload\", \"load_ms\": %.1f, "
                + "\"implementation\": \"CuratorCache\"}%n", (System.nanoTime() - t0) / 1e6);
        cache.close();
        c.close();
    }

    static void usage() {
        System.err.println("usage: CuratorPeer --connect HOST:PORT --scenario "
                + "lock|handoff|counter|queue|get|pipelined_get|cache [--clients N] [--seconds S] [--warmup S] [--root PATH]");
        System.exit(2);
    }
}
