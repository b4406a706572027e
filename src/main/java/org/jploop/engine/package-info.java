/**
 * The virtual disk engine: {@link org.jploop.engine.VirtualDisk} and its implementations, {@link
 * org.jploop.engine.RawDisk} for raw images and {@link org.jploop.engine.PloopDisk} for stacks of
 * ploop1 deltas, the userspace counterpart of the dm-ploop kernel target.
 *
 * <h2>Data flow of PloopDisk</h2>
 *
 * <pre>
 * FUSE read/write/punch
 *   -&gt; PloopDisk: range check, split at cluster boundaries, per-cluster RW lock (cluster locks)
 *      read:  MdPage lookup (physical cluster + level) -&gt; that delta's BlockFile, or zeros
 *      write: top-owned -&gt; write in place
 *             unmapped  -&gt; all zeros? nothing : ClusterAllocator.allocate() (holes_bitmap,
 *                          punch-before-reuse, Preallocator for file growth) -&gt; data write
 *                          -&gt; MdPage.Update (stage c -&gt; p, DIRTY, deadline)
 *             lower     -&gt; COW: read lower cluster, overlay, allocate, write, stage
 *      punch: top-owned whole cluster -&gt; punch file, stage entry 0 + pending free, HIGHPRIO
 *             (with lower deltas the mapping stays); partial -&gt; punch sub-range / COW
 *      ENOSPC anywhere -&gt; park (event flag, timer retry, early wake-up), then retry
 *   -&gt; MdWriteback (thread ploop-writeback-NAME, or flush()): due pages -&gt; WRITEBACK snapshot
 *      -&gt; force (data before BAT) -&gt; 4 KiB page writes -&gt; force -&gt; release pending frees
 *      into the holes bitmap -&gt; clear WRITEBACK, wake stagers
 *   -&gt; Preallocator (thread ploop-prealloc-NAME): grows the top file in PREALLOC_SIZE steps;
 *      close() truncates the unused tail.
 * </pre>
 *
 * <h2>Glossary: kernel (dm-ploop) names and their Java counterparts</h2>
 *
 * <table>
 *   <caption>kernel name to Java name</caption>
 *   <tr><th>kernel</th><th>Java</th></tr>
 *   <tr><td>{@code struct ploop}</td><td>{@link org.jploop.engine.PloopDisk}</td></tr>
 *   <tr><td>{@code struct ploop_delta}, {@code deltas[]}</td><td>{@code PloopDisk.Delta}, level
 *       0 = base</td></tr>
 *   <tr><td>{@code md_page}</td><td>{@link org.jploop.engine.MdPage}</td></tr>
 *   <tr><td>{@code md_lock}</td><td>the {@code MdPage} object monitor</td></tr>
 *   <tr><td>{@code bat_levels}</td><td>{@code MdPage.levels}</td></tr>
 *   <tr><td>{@code MD_DIRTY}, {@code MD_WRITEBACK}, {@code MD_UPDATING}, {@code
 *       MD_HIGHPRIO}</td><td>{@code MdPage.DIRTY}, {@code WRITEBACK}, {@code UPDATING}, {@code
 *       HIGHPRIO}</td></tr>
 *   <tr><td>{@code piwb} ({@code ploop_index_wb}), {@code prepare_bat_update}</td><td>{@code
 *       MdPage.Update} (staging) and {@code MdPage.Taken} (the snapshot being written)</td></tr>
 *   <tr><td>{@code break_bat_update}</td><td>{@code MdPage.Update.abort()}</td></tr>
 *   <tr><td>{@code wb_batch_llist}, {@code ploop_submit_metadata_writeback}</td><td>{@link
 *       org.jploop.engine.MdWriteback} queue and cycle</td></tr>
 *   <tr><td>{@code md_submit_delay_ms}, {@code dirty_timeout}</td><td>{@link
 *       org.jploop.engine.EngineOptions#mdSubmitDelayMs()}, {@code MdPage.deadline}</td></tr>
 *   <tr><td>{@code holes_bitmap}</td><td>{@link org.jploop.engine.FreeClusterBitmap}</td></tr>
 *   <tr><td>{@code ploop_allocate_cluster}</td><td>{@link
 *       org.jploop.engine.ClusterAllocator#allocate()}</td></tr>
 *   <tr><td>{@code bat_lock}</td><td>{@code ClusterAllocator.batLock} (also guards the
 *       Preallocator state)</td></tr>
 *   <tr><td>{@code ploop_preallocate_cluster}, {@code kt_allocator}</td><td>{@link
 *       org.jploop.engine.Preallocator}</td></tr>
 *   <tr><td>{@code prealloc_requested}, {@code preemptive_prealloc}, {@code file_size}, {@code
 *       file_preallocated_area_start}</td><td>same-named fields of {@code Preallocator}</td></tr>
 *   <tr><td>{@code PREALLOC_SIZE}</td><td>{@link
 *       org.jploop.engine.EngineOptions#preallocSize()}</td></tr>
 *   <tr><td>{@code falloc_new_clu}</td><td>{@link
 *       org.jploop.engine.EngineOptions#fallocNewClusters()}</td></tr>
 *   <tr><td>{@code exclusive_pios} / {@code inflight_pios} (cluster locks)</td><td>striped
 *       {@code ReentrantReadWriteLock}s in {@code PloopDisk}</td></tr>
 *   <tr><td>{@code enospc_pios}, {@code enospc_timer}, {@code event_enospc}</td><td>parked
 *       requests in {@code PloopDisk.park}, {@link
 *       org.jploop.engine.EngineOptions#enospcRetryMs()}, {@link
 *       org.jploop.engine.PloopDisk#takeEnospcEvent()}</td></tr>
 *   <tr><td>{@code m_DiskInUse}, {@code CIF_Empty}</td><td>set on read-write open, cleared on
 *       close by {@code PloopDisk}</td></tr>
 *   <tr><td>{@code EXT4_IOC_OPEN_BALLOON}, {@code balloon_ino}</td><td>none: {@code
 *       host.BalloonFile} opens the balloon by path, it stays visible</td></tr>
 *   <tr><td>{@code PLOOP_IOC_BALLOON} ({@code mntn_type})</td><td>the balloon's {@code flock},
 *       read by {@code host.BalloonFile.state}</td></tr>
 *   <tr><td>{@code PLOOP_IOC_FREEBLKS}, {@code PLOOP_IOC_RELOCBLKS} (balloon relocation,
 *       "TRUNCATED")</td><td>{@code daemon.BalloonRelease} (punch the clusters under the
 *       balloon through {@code disk.img}: {@link org.jploop.engine.PloopDisk#punchHole}), then
 *       an online compaction</td></tr>
 *   <tr><td>{@code ploop_trim} (FITRIM ladder)</td><td>{@code host.TrimLadder}; the discards
 *       reach {@link org.jploop.engine.PloopDisk#punchHole}</td></tr>
 * </table>
 *
 * <p>Package dependencies go engine &rarr; io &rarr; format only.
 */
package org.jploop.engine;
