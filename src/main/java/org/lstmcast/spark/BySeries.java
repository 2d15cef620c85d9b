package org.lstmcast.spark;

import java.util.HashMap;
import java.util.List;
import java.util.Map;

import org.apache.spark.Partitioner;

/**
 * Series dealt round-robin to partitions by their place in the sorted id list: every partition gets the same number
 * of series, give or take one, where hashing would leave some tasks with two series and others idle.
 */
final class BySeries extends Partitioner {
    private final Map<String, Integer> index;
    private final int partitions;

    BySeries(List<String> ids, int partitions) {
        this.partitions = partitions;
        this.index = new HashMap<>();
        for (int i = 0; i < ids.size(); i++) {
            index.put(ids.get(i), i);
        }
    }

    /** One task per series up to a bound, so progress and failures are counted by series. */
    static int partitions(int series) {
        return Math.max(1, Math.min(series, 20_000));
    }

    @Override
    public int numPartitions() {
        return partitions;
    }

    @Override
    public int getPartition(Object key) {
        Integer i = index.get((String) key);
        return i == null ? 0 : i % partitions;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof BySeries b && b.partitions == partitions && b.index.equals(index);
    }

    @Override
    public int hashCode() {
        return partitions;
    }
}
