package org.jploop.daemon;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Optional;
import org.jploop.format.descriptor.DiskDescriptor;
import org.jploop.format.descriptor.Guid;
import org.jploop.host.MountException;
import org.jploop.image.ImageOperationException;

/**
 * Refuses an operation that would rewrite or remove a delta a live component mount ({@code ploop
 * mount -c}, {@code ploop tsnapshot}) is reading, with ploop's {@code Snapshot %s is busy by
 * device(s): %s} (exit 17). A component's deltas are the chain of the snapshot it serves, or the
 * current top chain for one mounted without {@code -u} (conservative: a snapshot taken since adds
 * the new top to it). It also keeps a component of the top delta and a read-write plain mount apart
 * ({@link #refuseSharedTop}). Stateless: every call reads the status files and the descriptor
 * afresh.
 */
public final class ComponentGuard {
  private ComponentGuard() {}

  /** Refuses if a live component of {@code xml} serves one of the deltas of {@code guids}. */
  public static void refuseIfServing(Path xml, Collection<String> guids) throws IOException {
    List<MountStatus> components = MountStatus.components(xml);
    if (components.isEmpty()) {
      return;
    }
    DiskDescriptor d = DiskDescriptor.read(xml);
    for (MountStatus c : components) {
      List<Path> served = served(xml, d, c);
      for (String g : guids) {
        if (d.image(g) != null && served.contains(d.fileOf(xml, d.image(g)))) {
          throw busy(Guid.parse(g), List.of(c));
        }
      }
    }
  }

  /** Refuses if any component of {@code xml} is mounted (an operation on every delta). */
  public static void refuseIfAny(Path xml) throws IOException {
    List<MountStatus> components = MountStatus.components(xml);
    if (!components.isEmpty()) {
      MountStatus c = components.get(0);
      throw busy(c.snapshot() == null ? Guid.TOP_DELTA : c.snapshot(), components);
    }
  }

  /**
   * Refuses to serve a top delta that another mount of the disk writes, or to write one that a
   * component serves: a component of the top chain beside a read-write plain mount would read a
   * delta changing under it. Exit 21 ("Image %s already used by device %s").
   */
  static void refuseSharedTop(Path xml, boolean readOnly, String snapshotGuid, String component)
      throws IOException {
    DiskDescriptor d = DiskDescriptor.read(xml);
    if (component != null) {
      boolean top = snapshotGuid == null || Guid.same(snapshotGuid, d.topGuid());
      Optional<MountStatus> plain = MountStatus.forDescriptor(xml);
      if (top && plain.isPresent() && plain.get().daemonAlive() && !plain.get().readOnly()) {
        throw new MountException(
            MountException.Reason.ALREADY_MOUNTED,
            "Image "
                + xml.toRealPath()
                + " already used by device "
                + DiskMounter.deviceOf(plain.get())
                + ", which writes its top delta; mount a snapshot (-u GUID) as component "
                + component);
      }
      return;
    }
    if (readOnly) {
      return;
    }
    for (MountStatus c : MountStatus.components(xml)) {
      if (c.snapshot() == null || Guid.same(c.snapshot(), d.topGuid())) {
        throw new MountException(
            MountException.Reason.ALREADY_MOUNTED,
            "Image "
                + xml.toRealPath()
                + " already used by device "
                + DiskMounter.deviceOf(c)
                + " (component "
                + c.component()
                + ", which reads its top delta); mount it"
                + " read-only (-r)");
      }
    }
  }

  private static List<Path> served(Path xml, DiskDescriptor d, MountStatus c) throws IOException {
    return c.snapshot() == null || d.shot(c.snapshot()) == null
        ? d.topChainFiles(xml)
        : d.chainFiles(xml, c.snapshot());
  }

  private static ImageOperationException busy(String guid, List<MountStatus> users) {
    List<String> devs = new ArrayList<>();
    for (MountStatus u : users) {
      devs.add(DiskMounter.deviceOf(u) + " (component " + u.component() + ")");
    }
    return new ImageOperationException(
        ImageOperationException.Kind.BUSY,
        "Snapshot " + guid + " is busy by device(s): " + String.join(" ", devs));
  }
}
