package org.jploop.cli;

import java.io.EOFException;
import java.nio.file.AccessDeniedException;
import java.nio.file.NoSuchFileException;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.function.Supplier;
import org.jploop.daemon.DaemonExitException;
import org.jploop.format.BadExtensionException;
import org.jploop.format.CorruptImageException;
import org.jploop.format.descriptor.DescriptorException;
import org.jploop.host.MountException;
import picocli.CommandLine;

/**
 * The registry of verbs and the mapping from exception types to exit codes. Each verb is one class;
 * adding a verb means one line in {@link #verbs}. Immutable after class initialisation.
 */
final class Commands {
  private Commands() {}

  /** Every verb by name, in the order {@code --help} lists them; one line per verb. */
  private static final Map<String, Supplier<Object>> VERBS = verbs();

  private static Map<String, Supplier<Object>> verbs() {
    Map<String, Supplier<Object>> v = new LinkedHashMap<>();
    v.put("init", InitCommand::new);
    v.put("info", InfoCommand::new);
    v.put("check", CheckCommand::new);
    v.put("mount", MountCommand::new);
    v.put("umount", UmountCommand::new);
    v.put("list", ListCommand::new);
    v.put("daemon", DaemonCommand::new);
    v.put("hostd", HostdCommand::new);
    v.put("snapshot", SnapshotCommand::new);
    v.put("tsnapshot", TsnapshotCommand::new);
    v.put("replace", ReplaceCommand::new);
    v.put("snapshot-list", SnapshotListCommand::new);
    v.put("snapshot-switch", SnapshotSwitchCommand::new);
    v.put("snapshot-delete", SnapshotDeleteCommand::new);
    v.put("snapshot-merge", SnapshotMergeCommand::new);
    v.put("resize", ResizeCommand::new);
    v.put("grow", GrowCommand::new);
    v.put("compact", CompactCommand::new);
    v.put("convert", ConvertCommand::new);
    v.put("cbt", CbtCommand::new);
    v.put("copy", CopyCommand::new);
    v.put("merge", MergeCommand::new);
    v.put("restore-descriptor", RestoreDescriptorCommand::new);
    v.put("encrypt", EncryptCommand::new);
    v.put("volume", VolumeCommand::new);
    v.put("balloon", BalloonCommand::new);
    return v;
  }

  /** Adds every verb to the top-level command line. */
  static void register(CommandLine cl) {
    for (Supplier<Object> verb : VERBS.values()) {
      cl.addSubcommand(verb.get());
    }
    addCommonOptions(cl);
  }

  /**
   * Adds only the verb {@code args} names (its first word that is not an option) when it is a known
   * one, else every verb: picocli builds a verb's model by reflection when it is added, which for
   * all of them costs a short command more than its own work. The verb alone parses and reports
   * errors exactly as within the full tree (CommandsTest compares them); a missing or unknown verb
   * gets the full tree, so its usage lists every verb.
   */
  static void register(CommandLine cl, String[] args) {
    String verb = verbOf(args);
    Supplier<Object> only = verb == null ? null : VERBS.get(verb);
    if (only == null) {
      register(cl);
      return;
    }
    cl.addSubcommand(only.get());
    addCommonOptions(cl);
  }

  /** Returns the first argument that is not an option, or null. */
  static String verbOf(String[] args) {
    for (String a : args) {
      if (!a.startsWith("-")) {
        return a;
      }
    }
    return null;
  }

  /** Returns the names of every verb. */
  static Set<String> verbNames() {
    return VERBS.keySet();
  }

  /** Adds {@link CommonOptions} to every verb and sub-verb ({@code volume create} ...). */
  private static void addCommonOptions(CommandLine cl) {
    for (CommandLine verb : cl.getSubcommands().values()) {
      verb.addMixin(CommonOptions.MIXIN, new CommonOptions());
      addCommonOptions(verb);
    }
  }

  /** Returns whether the executing verb was given {@code --verbose}. */
  static boolean verbose(CommandLine line) {
    Object o = line.getMixins().get(CommonOptions.MIXIN);
    return o instanceof CommonOptions c && c.verbose;
  }

  /** Maps an unexpected exception to an exit code. */
  static int exitCodeFor(Throwable ex) {
    if (ex instanceof DaemonExitException de) {
      return de.exitCode();
    }
    if (ex instanceof MountException me) {
      return exitCodeFor(me.reason());
    }
    if (ex instanceof BadExtensionException) {
      return ExitCode.PROTOCOL;
    }
    if (ex instanceof CorruptImageException) {
      return ExitCode.PLOOPFMT;
    }
    if (ex instanceof DescriptorException) {
      return ExitCode.DISKDESCR;
    }
    if (ex instanceof NoSuchFileException || ex instanceof AccessDeniedException) {
      return ExitCode.OPEN;
    }
    if (ex instanceof EOFException) {
      return ExitCode.READ;
    }
    if (ex instanceof IllegalArgumentException) {
      return ExitCode.PARAM;
    }
    return ExitCode.SYS;
  }

  /** Maps why a mount operation failed to ploop's exit code. */
  static int exitCodeFor(MountException.Reason reason) {
    return switch (reason) {
      case ALREADY_MOUNTED -> ExitCode.MOUNT;
      case NOT_MOUNTED -> ExitCode.DEV_NOT_MOUNTED;
      case BAD_MOUNT_POINT -> ExitCode.MOUNT;
      case DIRTY -> ExitCode.PLOOPINUSE;
      case NO_FUSE -> ExitCode.NOFUSE;
      case MOUNT_FAILED -> ExitCode.MOUNT;
      case UMOUNT_FAILED -> ExitCode.UMOUNT;
      case BUSY -> ExitCode.UMOUNT_BUSY;
      case MKFS_FAILED -> ExitCode.MKFS;
      case FSCK_FAILED -> ExitCode.FSCK;
      case UNSUPPORTED -> ExitCode.PLOOPFMT;
      case RESIZE_FS -> ExitCode.RESIZE_FS;
      case REFUSED -> ExitCode.PARAM;
      case DEVICE -> ExitCode.DEVICE;
      case BALLOON_OPEN -> ExitCode.DEVIOC;
      case BALLOON_BUSY -> ExitCode.EBUSY;
      case BALLOON_FLOCK -> ExitCode.FLOCK;
      case BALLOON_FSTAT -> ExitCode.FSTAT;
      case BALLOON_FSYNC -> ExitCode.FSYNC;
      case BALLOON_TRUNCATE -> ExitCode.FTRUNCATE;
      case BALLOON_FALLOCATE -> ExitCode.FALLOCATE;
      case TRIM_FAILED -> ExitCode.TRIM;
      case CHANGE_GPT -> ExitCode.CHANGE_GPT;
    };
  }
}
