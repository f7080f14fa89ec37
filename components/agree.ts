/**
 * Whether an args interface and a schema's input type agree, field for field: components/args.ts
 * (generated from the schema) checks each of its interfaces with it, and each component its args with
 * their Inputs unwrapped, so that the compiler catches a generator that maps a schema type wrongly.
 */
import type * as pulumi from "@pulumi/pulumi";

/** T with every pulumi.Input unwrapped, deeply. */
export type Plain<T> = T extends pulumi.Resource
    ? T
    : T extends pulumi.OutputInstance<infer U>
      ? Plain<U>
      : T extends Promise<infer U>
        ? Plain<U>
        : T extends readonly (infer E)[]
          ? Plain<E>[]
          : T extends object
            ? { [K in keyof T]: Plain<T[K]> }
            : T;

type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
type OptionalKeys<T> = { [K in keyof T]-?: {} extends Pick<T, K> ? K : never }[keyof T];
/** The same field names, and the same ones optional. */
type KeysEqual<A, B> = [Same<keyof A, keyof B>, Same<OptionalKeys<A>, OptionalKeys<B>>] extends [true, true]
    ? true
    : false;
type AllTrue<T> = [T] extends [true] ? true : false;

/** `any` (a free-form value such as Helm values; Pulumi's schema calls it Any) agrees with the schema's `unknown`. */
type IsAny<T> = 0 extends 1 & T ? true : false;

/** True when A and B have the same fields at every depth, optional in both or in neither, and the same leaf types. */
export type Agree<A, B> =
    IsAny<A> extends true
        ? Same<unknown, B>
        : [NonNullable<A>] extends [readonly (infer EA)[]]
          ? [NonNullable<B>] extends [readonly (infer EB)[]]
              ? Agree<EA, EB>
              : false
          : [NonNullable<A>] extends [object]
            ? [NonNullable<B>] extends [object]
                ? KeysEqual<NonNullable<A>, NonNullable<B>> extends true
                    ? AllTrue<
                          {
                              [K in keyof NonNullable<A> & keyof NonNullable<B>]-?: Agree<
                                  NonNullable<A>[K],
                                  NonNullable<B>[K]
                              >;
                          }[keyof NonNullable<A> & keyof NonNullable<B>]
                      >
                    : false
                : false
            : Same<NonNullable<A>, NonNullable<B>>;

/** Compiles only when its argument is `true`. */
export type Check<T extends true> = T;
