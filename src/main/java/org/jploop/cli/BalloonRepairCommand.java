package org.jploop.cli;

import picocli.CommandLine.Command;

/**
 * {@code ploop balloon repair [-f]}: {@link BalloonCheckCommand} and then the release of the free
 * blocks found (punched out of the image, image compacted), without inflating the balloon; this
 * also finishes a balloon change that was interrupted before its release.
 */
@Command(name = "repair", description = "Release all free blocks present in hidden balloon.")
final class BalloonRepairCommand extends BalloonCheckCommand {
  @Override
  boolean repair() {
    return true;
  }
}
