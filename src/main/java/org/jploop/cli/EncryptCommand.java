package org.jploop.cli;

import java.nio.file.Path;
import java.util.concurrent.Callable;
import org.jploop.daemon.MountStatus;
import org.jploop.format.descriptor.DiskDescriptor;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code ploop encrypt [-k KEYID] [-w] [-r] DiskDescriptor.xml}: checked as ploop checks it (no
 * {@code -k}: "Keyid is not specified", 38; a bad descriptor: 39; mounted: "Encryption of mounted
 * disk image is prohibited", 38), then refused with {@link Encryption#unavailable} (exit 45).
 */
@Command(
    name = "encrypt",
    description = "Encrypt a disk with dm-crypt: refused, jploop has no" + " dm-crypt support.")
final class EncryptCommand implements Callable<Integer> {
  @Option(names = "-k", paramLabel = "KEYID", description = "Key id for crypt.d/getkey.")
  String keyId;

  @Option(names = "-w", description = "Keep the original image as .orig (wipe it otherwise).")
  boolean keepOriginal;

  @Option(names = "-r", description = "Re-encrypt an encrypted image.")
  boolean reencrypt;

  @Parameters(index = "0", paramLabel = "DiskDescriptor.xml")
  Path descriptor;

  @Override
  public Integer call() throws Exception {
    if (keyId == null) {
      throw new PloopException(ExitCode.PARAM, "Keyid is not specified");
    }
    DiskDescriptor.read(descriptor);
    if (MountStatus.forDescriptor(descriptor).isPresent()) {
      throw new PloopException(ExitCode.PARAM, "Encryption of mounted disk image is prohibited");
    }
    throw Encryption.unavailable("encrypt -k " + keyId);
  }
}
