package org.jploop.cli;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import org.jploop.check.CheckOptions;
import org.jploop.check.CheckResult;
import org.jploop.check.DiskBusyException;
import org.jploop.check.ImageChecker;
import org.jploop.format.descriptor.Guid;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code ploop check [-f] [-F] [-c] [-r] [-d] [-s] IMAGE} and {@code ploop check [-u UUID]
 * DiskDescriptor.xml}: runs {@link ImageChecker}, prints each finding on stdout (unless {@code
 * -s}) and exits as ploop does: 0 clean, 11 corrupted, 37 dirty or in use, 17 interrupted version
 * conversion.
 */
@Command(name = "check", description = "Check a ploop image (or a disk's chain) and repair it.")
final class CheckCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Option(names = {"-f", "--force"}, description = "Check a clean image too; apply soft fixes.")
  boolean force;

  @Option(names = {"-F", "--hard-force"}, description = "Also zero entries past EOF/misaligned.")
  boolean hardForce;

  @Option(names = {"-c", "--check"}, description = "Detailed: find clusters used twice.")
  boolean detailed;

  @Option(names = {"-r", "--ro"}, description = "Read-only: repair nothing.")
  boolean readOnly;

  @Option(names = {"-d", "--drop-inuse"}, description = "Clear the in-use flag if clean.")
  boolean dropInUse;

  @Option(names = {"-s", "--silent"}, description = "Do not print findings.")
  boolean silent;

  @Option(names = {"-u", "--uuid"}, paramLabel = "UUID",
      description = "DiskDescriptor.xml form: check the chain up to this snapshot.")
  String uuid;

  @Option(names = {"-R", "--raw"}, description = "The image is raw: nothing to check but -b.")
  boolean raw;

  @Option(names = {"-b", "--blocksize"}, paramLabel = "BLOCKSIZE",
      description = "Cluster size in sectors, required with -R (ignored for DiskDescriptor.xml).")
  Long blocksize;

  @Parameters(index = "0", paramLabel = "DiskDescriptor.xml|IMAGE")
  Path target;

  @Override
  public Integer call() throws IOException {
    PrintWriter out = spec.commandLine().getOut();
    PrintWriter err = spec.commandLine().getErr();
    CheckOptions options = new CheckOptions(force, hardForce, detailed, readOnly, dropInUse);
    boolean xml = target.getFileName().toString().endsWith(".xml");
    if (uuid != null && !xml) {
      throw new PloopException(ExitCode.PARAM, "-u is only valid with DiskDescriptor.xml");
    }
    if (raw && !xml) {
      // ploop_check with CHECK_RAW: a raw image has no metadata; only -b is required.
      if (blocksize == null || blocksize <= 0) {
        throw new PloopException(ExitCode.PARAM, "Cluster blocksize required for raw image");
      }
      return ExitCode.OK;
    }
    if (blocksize != null && xml) {
      err.println("Warning: -b is ignored for DiskDescriptor.xml");
    }
    CheckResult r;
    try {
      r = xml
          ? ImageChecker.checkDisk(target, uuid == null ? null : Guid.parse(uuid), options,
              f -> finding(out, f.toString()))
          : ImageChecker.checkImage(target, options, f -> finding(out, f.toString()));
    } catch (DiskBusyException e) {
      throw new PloopException(ExitCode.PLOOPINUSE, e.getMessage(), e);
    }
    out.flush();
    switch (r.status()) {
      case CLEAN, SKIPPED_CLEAN, STOPPED_UNALIGNED -> {
        if (!r.message().isEmpty() && !silent) {
          out.println(r.message());
        }
        out.flush();
        return ExitCode.OK;
      }
      case DIRTY -> {
        err.println(r.message());
        err.flush();
        return ExitCode.PLOOPINUSE;
      }
      case CONVERTING -> {
        err.println(r.message());
        err.flush();
        return ExitCode.EBUSY;
      }
      default -> {
        err.println(r.message());
        err.flush();
        return ExitCode.PLOOPFMT;
      }
    }
  }

  private void finding(PrintWriter out, String line) {
    if (!silent) {
      out.println(line);
    }
  }
}
