package org.jploop.io;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * Exempts a method, field or class from the build's forbidden-API check (one annotation for main
 * and test code, here at the bottom layer that every package may use) (forbiddenapis, configured in
 * pom.xml and config/forbidden-apis.txt). Every use says why in {@link #value()}. Not a lock
 * holder; no state.
 */
@Retention(RetentionPolicy.CLASS)
@Target({ElementType.METHOD, ElementType.FIELD, ElementType.TYPE, ElementType.CONSTRUCTOR})
public @interface SuppressForbidden {
  /** Why the forbidden API is right here. */
  String value();
}
