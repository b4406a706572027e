package org.jploop.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import org.jploop.daemon.MountStatus;
import org.jploop.format.descriptor.DiskDescriptor;
import org.jploop.host.DeviceName;
import org.jploop.host.LoopDevice;

/**
 * What {@code ploop list} prints for the mounted disks. ploop 9.x's format: one line {@code
 * <name>\t<base image>} per device ({@code name} is the kernel-style {@code ploopN}), with {@code
 * -f} one more line {@code \t\t<image>} per delta above the base; {@code -a} (ploop 7.x) adds the
 * mount point as a third column; a component mount ({@code mount -c}, {@code tsnapshot}) ends its
 * line with {@code \t<component>}, as ploop 9 does, and lists the chain it serves. A disk served
 * without a device (no loop attached, {@code ploop mount} without {@code -m} or {@code -d}) is
 * listed under its {@code disk.img} path. {@code --json} gives scripts everything, the daemon's
 * whole status included. Immutable.
 *
 * @param all {@code -a}
 * @param full {@code -f}
 */
record DeviceListing(boolean all, boolean full) {

  /** One mounted disk as listed. */
  private record Row(String name, DeviceName device, MountStatus status, List<String> images) {}

  /** Renders {@code mounts} as text or JSON. */
  String render(List<MountStatus> mounts, boolean json) throws IOException {
    List<Row> rows = new ArrayList<>();
    for (MountStatus st : mounts) {
      rows.add(row(st));
    }
    rows.sort(Comparator.comparing(Row::name));
    return json ? json(rows) : text(rows);
  }

  private static Row row(MountStatus st) throws IOException {
    DeviceName dev = null;
    if (st.loopDevice() != null) {
      List<DeviceName> names = DeviceName.of(new LoopDevice(st.loopDevice()));
      dev = names.isEmpty() ? null : names.get(0);
    }
    String name =
        dev != null
            ? dev.name()
            : st.loopDevice() != null
                ? Path.of(st.loopDevice()).getFileName().toString()
                : st.diskImage();
    List<String> images = new ArrayList<>();
    try {
      Path xml = Path.of(st.descriptor());
      DiskDescriptor d = DiskDescriptor.read(xml);
      for (Path p :
          st.snapshot() == null ? d.topChainFiles(xml) : d.chainFiles(xml, st.snapshot())) {
        images.add(p.toString());
      }
    } catch (IOException e) {
      images.add(st.descriptor()); // the descriptor went away under a stale mount
    }
    return new Row(name, dev, st, images);
  }

  private String text(List<Row> rows) {
    StringBuilder sb = new StringBuilder();
    for (Row r : rows) {
      sb.append(r.name()).append('\t').append(r.images().get(0));
      if (all) {
        sb.append('\t').append(r.status().mountPoint() == null ? "-" : r.status().mountPoint());
      }
      if (r.status().component() != null) {
        sb.append('\t').append(r.status().component()); // ploop 9: <dm>\t<base>[\t<component>]
      }
      sb.append('\n');
      if (full) {
        for (String img : r.images().subList(1, r.images().size())) {
          sb.append("\t\t").append(img).append('\n');
        }
      }
    }
    return sb.toString();
  }

  private static String json(List<Row> rows) throws IOException {
    ObjectMapper m = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
    ArrayNode a = m.createArrayNode();
    for (Row r : rows) {
      ObjectNode o = a.addObject();
      MountStatus st = r.status();
      o.put("name", r.name());
      o.put("device", r.device() == null ? null : r.device().path());
      o.put("partition", r.device() == null ? null : r.device().partition());
      o.put("loop", st.loopDevice());
      o.put("mount_point", st.mountPoint());
      o.put("descriptor", st.descriptor());
      o.put("base_image", r.images().get(0));
      ArrayNode imgs = o.putArray("images");
      r.images().forEach(imgs::add);
      o.put("disk_img", st.diskImage());
      o.put("pid", st.pid());
      o.put("state", st.state()); // ploop list passes only live disks
      o.put("read_only", st.readOnly());
      o.put("frontend", st.frontendName());
      JsonNode full = m.readTree(st.toJson());
      o.set("status", full);
    }
    return m.writeValueAsString(a) + "\n";
  }
}
