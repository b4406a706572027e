package org.jploop.cli;

import java.io.EOFException;
import java.nio.file.AccessDeniedException;
import java.nio.file.NoSuchFileException;
import org.jploop.daemon.DaemonExitException;
import org.jploop.format.BadExtensionException;
import org.jploop.format.CorruptImageException;
import org.jploop.format.descriptor.DescriptorException;
import org.jploop.host.MountException;
import picocli.CommandLine;

/**
 * The registry of verbs and the mapping from exception types to exit codes. Each verb is one
 * class; adding a verb means one line in {@link #register}.
 */
final class Commands {
  private Commands() {}

  /** Adds every verb to the top-level command line. */
  static void register(CommandLine cl) {
    // Verbs are added here, one line each.
    cl.addSubcommand(new InitCommand());
    cl.addSubcommand(new InfoCommand());
    cl.addSubcommand(new CheckCommand());
    cl.addSubcommand(new MountCommand());
    cl.addSubcommand(new UmountCommand());
    cl.addSubcommand(new ListCommand());
    cl.addSubcommand(new DaemonCommand());
    cl.addSubcommand(new SnapshotCommand());
    cl.addSubcommand(new TsnapshotCommand());
    cl.addSubcommand(new ReplaceCommand());
    cl.addSubcommand(new SnapshotListCommand());
    cl.addSubcommand(new SnapshotSwitchCommand());
    cl.addSubcommand(new SnapshotDeleteCommand());
    cl.addSubcommand(new SnapshotMergeCommand());
    cl.addSubcommand(new ResizeCommand());
    cl.addSubcommand(new GrowCommand());
    cl.addSubcommand(new CompactCommand());
    cl.addSubcommand(new ConvertCommand());
    cl.addSubcommand(new CbtCommand());
    cl.addSubcommand(new MergeCommand());
    cl.addSubcommand(new RestoreDescriptorCommand());
    cl.addSubcommand(new EncryptCommand());
    cl.addSubcommand(new VolumeCommand());
    cl.addSubcommand(new BalloonCommand());
    addCommonOptions(cl);
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
