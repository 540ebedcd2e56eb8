/**
 * The Standard Schema v1 interface (https://standardschema.dev), declared here so core needs no
 * runtime or type dependency: any library implementing it (zod ≥ 3.24, valibot, arktype) fits.
 * Type-only; structurally identical to `@standard-schema/spec`'s `StandardSchemaV1`.
 */
export interface StandardSchemaV1<Input = unknown, Output = Input> {
  /** The Standard Schema properties. */
  readonly '~standard': StandardSchemaV1.Props<Input, Output>;
}

/** Types belonging to {@link StandardSchemaV1}. */
// eslint-disable-next-line @typescript-eslint/no-namespace
export declare namespace StandardSchemaV1 {
  /** The Standard Schema properties. */
  export interface Props<Input = unknown, Output = Input> {
    /** Version of the standard (always 1). */
    readonly version: 1;
    /** Vendor name of the schema library. */
    readonly vendor: string;
    /** Validate an unknown value; may be synchronous or asynchronous. */
    readonly validate: (value: unknown) => Result<Output> | Promise<Result<Output>>;
    /** Inferred types (type-level only). */
    readonly types?: Types<Input, Output> | undefined;
  }
  /** Outcome of `validate`. */
  export type Result<Output> = SuccessResult<Output> | FailureResult;
  /** Successful validation. */
  export interface SuccessResult<Output> {
    /** The (possibly transformed) value. */
    readonly value: Output;
    /** Absent on success. */
    readonly issues?: undefined;
  }
  /** Failed validation. */
  export interface FailureResult {
    /** What is wrong. */
    readonly issues: ReadonlyArray<Issue>;
  }
  /** One validation issue. */
  export interface Issue {
    /** Human-readable message. */
    readonly message: string;
    /** Where in the value, if known. */
    readonly path?: ReadonlyArray<PropertyKey | PathSegment> | undefined;
  }
  /** A path segment object. */
  export interface PathSegment {
    /** The key of the segment. */
    readonly key: PropertyKey;
  }
  /** Type-level input/output. */
  export interface Types<Input = unknown, Output = Input> {
    /** Input type. */
    readonly input: Input;
    /** Output type. */
    readonly output: Output;
  }
  /** Infer the output type of a schema. */
  export type InferOutput<Schema extends StandardSchemaV1> = NonNullable<
    Schema['~standard']['types']
  >['output'];
  /** Infer the input type of a schema. */
  export type InferInput<Schema extends StandardSchemaV1> = NonNullable<
    Schema['~standard']['types']
  >['input'];
}
