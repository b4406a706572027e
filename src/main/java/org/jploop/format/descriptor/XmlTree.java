package org.jploop.format.descriptor;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import com.fasterxml.jackson.dataformat.xml.annotation.JacksonXmlElementWrapper;
import com.fasterxml.jackson.dataformat.xml.annotation.JacksonXmlRootElement;
import java.util.ArrayList;
import java.util.List;

/**
 * The element tree of DiskDescriptor.xml as Jackson binds it, element for element and in the order
 * ploop writes it. Values stay strings here: ploop parses numbers with {@code strtoul(s, 0)} and
 * {@link DiskDescriptor} applies those rules. Unknown elements are ignored, as ploop does; the root
 * element's name is not checked on read (old files say {@code Parallels_disk_image}).
 */
final class XmlTree {
  private XmlTree() {}

  @JacksonXmlRootElement(localName = "Virtuozzo_disk_image")
  @JsonIgnoreProperties(ignoreUnknown = true)
  @JsonInclude(JsonInclude.Include.NON_NULL)
  @JsonPropertyOrder({"Disk_Parameters", "StorageData", "Snapshots"})
  static final class Root {
    @JsonProperty("Disk_Parameters")
    DiskParameters diskParameters;

    @JsonProperty("StorageData")
    StorageData storageData;

    @JsonProperty("Snapshots")
    Snapshots snapshots;
  }

  @JsonIgnoreProperties(ignoreUnknown = true)
  @JsonInclude(JsonInclude.Include.NON_NULL)
  @JsonPropertyOrder({
    "Disk_size",
    "Max_delta_size",
    "Cylinders",
    "Heads",
    "Sectors",
    "Padding",
    "Encryption"
  })
  static final class DiskParameters {
    @JsonProperty("Disk_size")
    String diskSize;

    @JsonProperty("Max_delta_size")
    String maxDeltaSize;

    @JsonProperty("Cylinders")
    String cylinders;

    @JsonProperty("Heads")
    String heads;

    @JsonProperty("Sectors")
    String sectors;

    @JsonProperty("Padding")
    String padding;

    @JsonProperty("Encryption")
    Encryption encryption;
  }

  @JsonIgnoreProperties(ignoreUnknown = true)
  @JsonInclude(JsonInclude.Include.NON_NULL)
  static final class Encryption {
    @JsonProperty("KeyId")
    String keyId;
  }

  @JsonIgnoreProperties(ignoreUnknown = true)
  @JsonInclude(JsonInclude.Include.NON_NULL)
  @JsonPropertyOrder({"Volume", "Storage"})
  static final class StorageData {
    @JsonProperty("Volume")
    Volume volume;

    @JsonProperty("Storage")
    @JacksonXmlElementWrapper(useWrapping = false)
    List<Storage> storage = new ArrayList<>();
  }

  /** ploop-volume's {@code <Volume>}: an element that may be empty, so every child is optional. */
  @JsonIgnoreProperties(ignoreUnknown = true)
  @JsonInclude(JsonInclude.Include.NON_NULL)
  @JsonPropertyOrder({"Parent", "SnapshotGUID", "ReadOnly"})
  static final class Volume {
    @JsonProperty("Parent")
    String parent;

    @JsonProperty("SnapshotGUID")
    String snapshotGuid;

    @JsonProperty("ReadOnly")
    String readOnly;
  }

  @JsonIgnoreProperties(ignoreUnknown = true)
  @JsonInclude(JsonInclude.Include.NON_NULL)
  @JsonPropertyOrder({"Start", "End", "Blocksize", "Preallocated", "Image"})
  static final class Storage {
    @JsonProperty("Start")
    String start;

    @JsonProperty("End")
    String end;

    @JsonProperty("Blocksize")
    String blocksize;

    @JsonProperty("Preallocated")
    String preallocated;

    @JsonProperty("Image")
    @JacksonXmlElementWrapper(useWrapping = false)
    List<Image> images = new ArrayList<>();
  }

  @JsonIgnoreProperties(ignoreUnknown = true)
  @JsonInclude(JsonInclude.Include.NON_NULL)
  @JsonPropertyOrder({"GUID", "Type", "File"})
  static final class Image {
    @JsonProperty("GUID")
    String guid;

    @JsonProperty("Type")
    String type;

    @JsonProperty("File")
    String file;
  }

  @JsonIgnoreProperties(ignoreUnknown = true)
  @JsonInclude(JsonInclude.Include.NON_NULL)
  @JsonPropertyOrder({"TopGUID", "Shot"})
  static final class Snapshots {
    @JsonProperty("TopGUID")
    String topGuid;

    @JsonProperty("Shot")
    @JacksonXmlElementWrapper(useWrapping = false)
    List<Shot> shots = new ArrayList<>();
  }

  @JsonIgnoreProperties(ignoreUnknown = true)
  @JsonInclude(JsonInclude.Include.NON_NULL)
  @JsonPropertyOrder({"GUID", "ParentGUID", "Temporary", "TemporaryZero", "TemporaryZeroSwap"})
  static final class Shot {
    @JsonProperty("GUID")
    String guid;

    @JsonProperty("ParentGUID")
    String parentGuid;

    @JsonProperty("Temporary")
    String temporary;

    @JsonProperty("TemporaryZero")
    String temporaryZero;

    @JsonProperty("TemporaryZeroSwap")
    String temporaryZeroSwap;
  }
}
