package org.jploop.host;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The minlen sequence of ploop's FITRIM ladder, over a fake FITRIM. */
class TrimLadderTest {
  private static final long M = 1L << 20;
  private final List<String> out = new ArrayList<>();

  private List<Long> minlens(
      long cluster, long minBlock, long granularity, long kernelFloor, int stopAfter)
      throws Exception {
    int[] calls = {0};
    List<TrimLadder.Pass> passes =
        new TrimLadder(out::add)
            .run(
                minlen -> {
                  calls[0]++;
                  return new long[] {minlen * 3, Math.max(minlen, kernelFloor)};
                },
                cluster,
                minBlock,
                granularity,
                () -> stopAfter > 0 && calls[0] >= stopAfter);
    return passes.stream().map(TrimLadder.Pass::minlen).toList();
  }

  @Test
  void testLadder_halvesFrom32ClustersToTheCluster_once() throws Exception {
    assertThat(minlens(M, 0, 4096, 0, 0)).containsExactly(32 * M, 16 * M, 8 * M, 4 * M, 2 * M, M);
    assertThat(out).first().isEqualTo("Call FITRIM, for minlen=33554432");
    assertThat(out).last().isEqualTo("Call FITRIM, for minlen=1048576");
  }

  @Test
  void testLadder_minBlockRoundedUpToClusters_granularityAndKernelRaiseTheFloor() throws Exception {
    assertThat(minlens(M, 3 * M - 5, 0, 0, 0))
        .as("--min-block 3M-5 -> 3M")
        .containsExactly(32 * M, 16 * M, 8 * M, 4 * M, 3 * M);
    assertThat(minlens(M, 100, 0, 0, 0)).as("below a cluster: the cluster").endsWith(M);
    assertThat(minlens(M, 0, 64 * M, 0, 0))
        .as("host granularity above 32 clusters")
        .containsExactly(64 * M);
    assertThat(minlens(64 * 1024, 0, 0, 512 * 1024, 0))
        .as("the kernel raised the 256K pass to 512K: that is the floor, the ladder ends")
        .containsExactly(2 * M, M, 512L * 1024, 256L * 1024);
  }

  @Test
  void testLadder_stopsWhenToldAfterAPass() throws Exception {
    assertThat(minlens(M, 0, 0, 0, 2)).containsExactly(32 * M, 16 * M);
  }

  @Test
  void testFloor_asPloop() {
    assertThat(TrimLadder.floor(M, 0, 0)).isEqualTo(M);
    assertThat(TrimLadder.floor(M, M + 1, 0)).isEqualTo(2 * M);
    assertThat(TrimLadder.floor(M, 0, 4 * M)).isEqualTo(4 * M);
  }
}
