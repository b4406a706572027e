package org.jploop.engine;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** MdPage status transitions (seed 003) and per-page deadlines (seed 001), incl. waiters. */
class MdPageTest {
  static final long MS = 1_000_000L;
  final AtomicInteger enqueued = new AtomicInteger();
  final MdPage page = new MdPage(0, enqueued::incrementAndGet);

  @Test
  void firstDirtyingEnqueuesOnceAndSetsDeadline() throws Exception {
    MdPage.Update u = page.beginUpdate();
    assertThat(page.test(MdPage.UPDATING)).isTrue();
    assertThat(page.test(MdPage.DIRTY)).isTrue();
    u.set(20, 100, 0);
    u.commit(0, 1000 * MS, 10_000 * MS);
    assertThat(page.test(MdPage.UPDATING)).isFalse();
    assertThat(page.deadline()).isEqualTo(1000 * MS);
    MdPage.Update u2 = page.beginUpdate();
    u2.set(21, 101, 0);
    u2.commit(500 * MS, 1000 * MS, 10_000 * MS);
    assertThat(enqueued).hasValue(1);
    assertThat(page.deadline()).as("re-dirtying extends the deadline").isEqualTo(1500 * MS);
    assertThat(page.physical(20)).isEqualTo(100);
    assertThat(page.physical(21)).isEqualTo(101);
  }

  @Test
  void deadlineIsCappedByMaxDelay() throws Exception {
    for (long t = 0; t <= 12_000; t += 500) {
      MdPage.Update u = page.beginUpdate();
      u.set(30, 7, 0);
      u.commit(t * MS, 1000 * MS, 10_000 * MS);
    }
    assertThat(page.deadline()).isEqualTo(10_000 * MS);
    assertThat(page.startWriteback(10_000 * MS, false)).isNotNull();
  }

  @Test
  void stagerWaitsWhileUpdatingAndIsWoken() throws Exception {
    MdPage.Update a = page.beginUpdate();
    CompletableFuture<MdPage.Update> b =
        CompletableFuture.supplyAsync(
            () -> {
              try {
                return page.beginUpdate();
              } catch (Exception e) {
                throw new RuntimeException(e);
              }
            });
    Thread.sleep(100);
    assertThat(b).isNotDone();
    a.set(40, 9, 0);
    a.commit(0, 0, 0);
    MdPage.Update ub = b.get(5, TimeUnit.SECONDS);
    ub.set(41, 10, 0);
    ub.commit(0, 0, 0);
    assertThat(page.physical(40)).isEqualTo(9);
    assertThat(page.physical(41)).isEqualTo(10);
  }

  @Test
  void stagerWaitsWhileWritebackAndWritebackSkipsUpdating() throws Exception {
    MdPage.Update a = page.beginUpdate();
    a.set(50, 3, 0);
    assertThat(page.startWriteback(Long.MAX_VALUE / 2, false))
        .as("writeback skips an UPDATING page")
        .isNull();
    a.commit(0, 0, 0);
    MdPage.Taken t = page.startWriteback(0, false);
    assertThat(t).isNotNull();
    assertThat(page.test(MdPage.WRITEBACK)).isTrue();
    assertThat(page.test(MdPage.DIRTY)).isFalse();
    CompletableFuture<MdPage.Update> b =
        CompletableFuture.supplyAsync(
            () -> {
              try {
                return page.beginUpdate();
              } catch (Exception e) {
                throw new RuntimeException(e);
              }
            });
    Thread.sleep(100);
    assertThat(b).as("no staging into a page under writeback").isNotDone();
    page.endWriteback();
    b.get(5, TimeUnit.SECONDS).commit(0, 0, 0);
    assertThat(page.test(MdPage.DIRTY)).isTrue();
  }

  @Test
  void abortRestoresOnlyItsOwnEntriesAndDirty() throws Exception {
    MdPage.Update a = page.beginUpdate();
    a.set(60, 11, 0);
    a.commit(0, 1000 * MS, 10_000 * MS);
    MdPage.Update b = page.beginUpdate();
    b.set(61, 12, 0);
    b.set(60, 13, 0);
    b.abort();
    assertThat(page.physical(60)).as("a's staged entry survives b's break").isEqualTo(11);
    assertThat(page.physical(61)).isZero();
    assertThat(page.test(MdPage.DIRTY)).as("DIRTY was set by a, not b").isTrue();
    assertThat(page.test(MdPage.UPDATING)).isFalse();

    MdPage clean = new MdPage(1, () -> {});
    MdPage.Update c = clean.beginUpdate();
    c.set(5, 1, 0);
    c.abort();
    assertThat(clean.test(MdPage.DIRTY)).as("c set DIRTY itself, so it clears it").isFalse();
    assertThat(clean.beginUpdate()).as("no waiter stuck after a break").isNotNull();
  }

  @Test
  void waitersAreWokenAfterBreak() throws Exception {
    MdPage.Update a = page.beginUpdate();
    CompletableFuture<MdPage.Update> b =
        CompletableFuture.supplyAsync(
            () -> {
              try {
                return page.beginUpdate();
              } catch (Exception e) {
                throw new RuntimeException(e);
              }
            });
    Thread.sleep(50);
    a.abort();
    assertThat(b.get(5, TimeUnit.SECONDS)).isNotNull();
  }

  @Test
  void failedWritebackKeepsPageDirtyAndFrees() throws Exception {
    MdPage.Update a = page.beginUpdate();
    a.set(70, 0, 0);
    a.freeAfterWriteback(99);
    a.commit(0, 1000 * MS, 10_000 * MS);
    assertThat(page.test(MdPage.HIGHPRIO)).isFalse();
    assertThat(page.raisePriority()).isTrue();
    assertThat(page.test(MdPage.HIGHPRIO)).isTrue();
    MdPage.Taken t = page.startWriteback(0, false);
    assertThat(t).as("HIGHPRIO ignores the delay").isNotNull();
    assertThat(t.frees()).containsExactly(99L);
    page.failWriteback(t.frees(), 5 * MS);
    assertThat(page.test(MdPage.DIRTY)).isTrue();
    assertThat(page.test(MdPage.WRITEBACK)).isFalse();
    assertThat(page.pendingFrees()).isEqualTo(List.of(99L));
    assertThat(page.startWriteback(4 * MS, false)).isNull();
    assertThat(page.startWriteback(5 * MS, false)).isNotNull();
  }

  @Test
  void everyWaiterIsWokenExactlyOnceAfterWriteback() throws Exception {
    MdPage.Update a = page.beginUpdate();
    a.set(80, 1, 0);
    a.commit(0, 0, 0);
    MdPage.Taken t = page.startWriteback(0, false);
    assertThat(t).isNotNull();
    AtomicInteger staged = new AtomicInteger();
    List<CompletableFuture<Void>> ws = new java.util.ArrayList<>();
    for (int i = 0; i < 8; i++) {
      int slot = 100 + i;
      ws.add(
          CompletableFuture.runAsync(
              () -> {
                try {
                  MdPage.Update u = page.beginUpdate();
                  u.set(slot, slot, 0);
                  staged.incrementAndGet();
                  u.commit(0, 0, 0);
                } catch (Exception e) {
                  throw new RuntimeException(e);
                }
              }));
    }
    Thread.sleep(100);
    assertThat(staged).hasValue(0);
    page.endWriteback();
    for (CompletableFuture<Void> w : ws) {
      w.get(5, TimeUnit.SECONDS);
    }
    assertThat(staged).hasValue(8);
    for (int i = 0; i < 8; i++) {
      assertThat(page.physical(100 + i)).isEqualTo(100 + i);
    }
    assertThat(enqueued).as("dirtied again once after the writeback").hasValue(2);
  }
}
