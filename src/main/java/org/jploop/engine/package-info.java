/**
 * The virtual disk engine: {@link org.jploop.engine.VirtualDisk} and its implementations, {@link
 * org.jploop.engine.RawDisk} for raw images and {@link org.jploop.engine.PloopDisk} for stacks of
 * ploop1 deltas, the userspace counterpart of the dm-ploop kernel target.
 *
 * <h2>Data flow of PloopDisk</h2>
 *
 * <pre>
 * FUSE read/write/punch
 *   -&gt; PloopDisk -&gt; RequestGate: range check, shared side of the gate, split at cluster
 *      boundaries; per piece the ClusterLocks stripe (shared or exclusive)
 *      read:  MergedBat lookup (physical cluster + level) -&gt; DeltaStack reads that delta's
 *             BlockFile, or zeros
 *      write: ClusterWriter: top-owned -&gt; write in place
 *             unmapped  -&gt; all zeros? nothing : ClusterAllocator.allocate() (holes_bitmap,
 *                          punch-before-reuse, Preallocator for file growth) -&gt; data write
 *                          -&gt; MergedBat.stage -&gt; MdPage.Update (stage c -&gt; p, DIRTY, deadline)
 *             lower     -&gt; CopyOnWrite: read lower cluster, overlay, allocate, write, stage
 *      punch: Discarder: top-owned whole cluster -&gt; punch file, stage entry 0 + pending free,
 *             HIGHPRIO (with lower deltas the mapping stays); partial -&gt; punch sub-range / COW
 *      ENOSPC anywhere -&gt; EnospcParking: park (event flag, timer retry, early wake-up), retry
 *   -&gt; MdWriteback (thread ploop-writeback-NAME, or flush()): due pages -&gt; WRITEBACK snapshot
 *      -&gt; force (data before BAT) -&gt; 4 KiB page writes (page 0 with TopHeader's bytes) -&gt; force
 *      -&gt; release pending frees into the holes bitmap -&gt; clear WRITEBACK, wake stagers
 *   -&gt; Preallocator (thread ploop-prealloc-NAME): grows the top file in PREALLOC_SIZE steps;
 *      close() truncates the unused tail.
 *   -&gt; when the request has completed (inside the gate): ChangeTracking marks its range in the
 *      CBT (ChangedBlockTracker, 64 KiB granules) and in any copy sender's tracker
 * open: DeltaStack.open validates headers and BATs, loads them top-down into the MergedBat;
 *       read-write: ChangeTracking reads the top's CBT (CbtStore, v2.1 only), TopHeader marks the
 *       top in use and clears the extension pointer, the extension's clusters are cut off the
 *       end, the CBT runs;
 * close: gate shut, writeback flushed, tail trimmed, TopHeader marks the top closed: v2.1 with
 *       the CBT appended (CbtStore.write) if one runs, else v2.0.
 * </pre>
 *
 * <h2>Glossary: kernel (dm-ploop) names and their Java counterparts</h2>
 *
 * <table>
 *   <caption>kernel name to Java name</caption>
 *   <tr><th>kernel</th><th>Java</th></tr>
 *   <tr><td>{@code struct ploop}</td><td>{@link org.jploop.engine.PloopDisk}</td></tr>
 *   <tr><td>{@code struct ploop_delta}, {@code deltas[]}</td><td>{@link
 *       org.jploop.engine.Delta}, {@link org.jploop.engine.DeltaStack}; level 0 = base</td></tr>
 *   <tr><td>dm core: suspend / in-flight wait, {@code max_io_len} split</td><td>{@link
 *       org.jploop.engine.RequestGate}</td></tr>
 *   <tr><td>{@code md_page}</td><td>{@link org.jploop.engine.MdPage}</td></tr>
 *   <tr><td>md page tree ({@code bat_entries}), {@code ploop_bat_entries()}</td><td>{@link
 *       org.jploop.engine.MergedBat}</td></tr>
 *   <tr><td>{@code md_lock}</td><td>the {@code MdPage} object monitor</td></tr>
 *   <tr><td>{@code bat_levels}</td><td>{@code MdPage.levels}</td></tr>
 *   <tr><td>{@code MD_DIRTY}, {@code MD_WRITEBACK}, {@code MD_UPDATING}, {@code
 *       MD_HIGHPRIO}</td><td>{@code MdPage.DIRTY}, {@code WRITEBACK}, {@code UPDATING}, {@code
 *       HIGHPRIO}</td></tr>
 *   <tr><td>{@code piwb} ({@code ploop_index_wb}), {@code prepare_bat_update}</td><td>{@code
 *       MergedBat.stage}, {@code MdPage.Update} (staging) and {@code MdPage.Taken} (the snapshot
 *       being written)</td></tr>
 *   <tr><td>{@code break_bat_update}</td><td>{@code MdPage.Update.abort()}</td></tr>
 *   <tr><td>{@code ploop_md_up_prio}</td><td>{@code MergedBat.raisePriority}</td></tr>
 *   <tr><td>{@code wb_batch_llist}, {@code ploop_submit_metadata_writeback}</td><td>{@link
 *       org.jploop.engine.MdWriteback} queue and cycle</td></tr>
 *   <tr><td>{@code md_submit_delay_ms}, {@code dirty_timeout}</td><td>{@link
 *       org.jploop.engine.EngineOptions#mdSubmitDelayMs()}, {@code MdPage.deadline}</td></tr>
 *   <tr><td>{@code ploop_process_one_deferred_bio} (writes), {@code
 *       ploop_locate_new_cluster_and_attach_pio}</td><td>{@link
 *       org.jploop.engine.ClusterWriter}</td></tr>
 *   <tr><td>{@code struct ploop_cow}, {@code ploop_submit_cow}</td><td>{@link
 *       org.jploop.engine.CopyOnWrite}</td></tr>
 *   <tr><td>{@code ploop_handle_discard_pio}</td><td>{@link
 *       org.jploop.engine.Discarder}</td></tr>
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
 *   <tr><td>{@code exclusive_pios} / {@code inflight_pios} (cluster locks)</td><td>{@link
 *       org.jploop.engine.ClusterLocks}</td></tr>
 *   <tr><td>{@code enospc_pios}, {@code enospc_timer}, {@code event_enospc}</td><td>{@link
 *       org.jploop.engine.EnospcParking}, {@link
 *       org.jploop.engine.EngineOptions#enospcRetryMs()}, {@link
 *       org.jploop.engine.PloopDisk#takeEnospcEvent()}</td></tr>
 *   <tr><td>{@code m_DiskInUse}, {@code CIF_Empty} (ploop library: {@code update_delta_inuse},
 *       {@code clear_delta})</td><td>{@link org.jploop.engine.TopHeader}: set on read-write
 *       open, cleared on close</td></tr>
 *   <tr><td>{@code struct cbt_info} (block/blk-cbt.c, on the device's request queue)</td><td>{@link
 *       org.jploop.engine.ChangedBlockTracker}, held by {@link
 *       org.jploop.engine.ChangeTracking}</td></tr>
 *   <tr><td>{@code BLKCBTSTART}, {@code BLKCBTSTOP}</td><td>{@link
 *       org.jploop.engine.ChangeTracking#startCbt}, {@link
 *       org.jploop.engine.ChangeTracking#stopCbt} ({@link
 *       org.jploop.engine.ChangeTracking#adoptCbt} hands a CBT to a reopened disk, as the
 *       kernel's survives table reloads)</td></tr>
 *   <tr><td>{@code BLKCBTGET}, {@code CI_FLAG_ONCE}, {@code BLKCBTSET}, {@code
 *       CI_FLAG_NEW_UUID}</td><td>{@code ChangedBlockTracker.snapshot}, {@code takeAndClear},
 *       {@code set}, {@code rename}</td></tr>
 *   <tr><td>dm-tracking's bitmap, {@code tracking_start}, {@code tracking_get_next} / {@code
 *       tracking_clear}, {@code tracking_stop}</td><td>{@link
 *       org.jploop.engine.ChangeTracking#startTracking}, {@code ChangedBlockTracker.takeAndClear},
 *       {@link org.jploop.engine.ChangeTracking#stopTracking}</td></tr>
 *   <tr><td>{@code ploop_copy_start}'s bitmap of the clusters the top delta's BAT
 *       maps</td><td>{@link org.jploop.engine.PloopDisk#mappedInTop} (the md pages in
 *       memory)</td></tr>
 *   <tr><td>ploop library: {@code read_optional_header_from_image(DIRTY_BITMAP_TRUNCATE)} at
 *       mount, {@code save_cbt} at umount</td><td>{@code ChangeTracking.readSaved} (via {@link
 *       org.jploop.io.CbtStore}) at a read-write open, {@code TopHeader.markClosed}</td></tr>
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
