/**
 * What goes into `__provider`: a few hundred bytes of module text that requires the installed package.
 *
 * The dynamic-provider host (`@pulumi/pulumi/cmd/dynamic-provider`) loads a resource's provider with
 * `requireFromString(props.__provider).handler()`, caches it by that string (configured once per process), and
 * resolves the text's `require`s from its working directory, which is the program's: the program's
 * node_modules/pulumi-ovh-okms answers. So the text needs no serialized closure: the resources register
 * themselves (`pulumi.CustomResource` with the type `pulumi.dynamic.Resource` would give them,
 * `pulumi-nodejs:dynamic/okms:<Type>`) with this text, which Pulumi stores twice per resource (inputs and
 * outputs) in every checkpoint rewrite; the program never loads the SDK's closure serializer.
 *
 * Consequences, on purpose:
 * - `read` and `delete` of existing resources run the *installed* version of the package, not the code that
 *   was current when the resource was created; they must (and do) accept every older output shape.
 * - A new release changes no `__provider` text, so no spurious diffs and no state churn.
 * - State written by 0.1 holds a serialized loader that requires `pulumi-ovh-okms/dist/provider/index.js`,
 *   which package.json keeps as an export of providers.ts (test/e2e/checkpoint01.spec.ts).
 */
import * as pulumi from "@pulumi/pulumi";

/** The resources' type names (`pulumi-nodejs:dynamic/okms:<type>` in URNs). */
export const RESOURCE_TYPES = ["Okms", "ServiceKey", "Credential", "Ciphertext", "Secret", "SecretConfig"] as const;

/** One of {@link RESOURCE_TYPES}. */
export type ResourceType = (typeof RESOURCE_TYPES)[number];

/** The provider of each type, named like its instance in `provider/resources/providers.ts` (`okmsProvider`). */
export type ProviderKind = `${Uncapitalize<ResourceType>}Provider`;

/** The provider kind of a resource type. */
export function providerKind(type: ResourceType): ProviderKind {
    return `${type.charAt(0).toLowerCase()}${type.slice(1)}Provider` as ProviderKind;
}

/** Every provider kind, one per resource type (the names `pulumi-ovh-okms/internal/providers` exports). */
export const PROVIDER_KINDS: readonly ProviderKind[] = RESOURCE_TYPES.map(providerKind);

/**
 * The `__provider` text of one kind: a module whose `handler()` returns the installed package's provider
 * (`load` in provider/resources/providers.ts names the kind when the installed version lacks it). Kept short:
 * the engine rewrites both copies of every resource's text into each checkpoint it writes.
 */
export function providerModule(kind: ProviderKind): string {
    return (
        `exports.handler=function(){var m;try{m=require("pulumi-ovh-okms/internal/providers")}catch(e){` +
        `throw new Error("pulumi-ovh-okms is not installed where the Pulumi program runs: "+e.message)}` +
        `return m.load("${kind}")};`
    );
}

/** The URN type of a resource: the one `pulumi.dynamic.Resource` gives with module `okms`, as in 0.1's state. */
export function dynamicType(type: string): string {
    return `pulumi-nodejs:dynamic/okms:${type}`;
}

/**
 * A resource's public outputs: each field of its `*Outputs` type as a `pulumi.Output`, so that each output is
 * declared and documented once, on that type. The index signature (the SDK's extra keys) is left out.
 */
export type ResourceOutputs<O> = { readonly [K in keyof O as string extends K ? never : K]-?: pulumi.Output<O[K]> };

/** The names of {@link ResourceOutputs}: what a resource must register for each of them to be set. */
export type OutputName<O> = keyof ResourceOutputs<O> & string;

/** How a resource class registers: its type (and so its provider), its outputs, and what is always secret. */
export interface ResourceKind {
    readonly type: ResourceType;
    /** Every output name (registered as `undefined` unless the arguments carry it). */
    readonly outputs: readonly string[];
    /** Inputs made secret whatever the caller passed, and outputs always stored as secrets. */
    readonly secrets: readonly string[];
}

/** The class of one resource: `new X(name, args, opts)` registers it; its instances carry the outputs `O`. */
export interface ResourceClass<A, O> {
    new (name: string, args: A, opts?: pulumi.CustomResourceOptions): pulumi.CustomResource & ResourceOutputs<O>;
    /** Whether `obj` is a Pulumi custom resource (`pulumi.CustomResource.isInstance`). */
    isInstance(obj: unknown): obj is pulumi.CustomResource;
}

/** The arguments as registered when the OKMS `name` defaults to the resource's name. */
export function namedAfterResource<A extends { name?: pulumi.Input<string> }>(name: string, args: A): A {
    return { ...args, name: args.name ?? name };
}

/**
 * The class of a dynamic resource whose `__provider` is {@link providerModule}; `props` maps its arguments to
 * what it registers (a default the provider needs spelled out). `pulumi.dynamic.Resource` would serialize a
 * provider object (and refuses a preset `__provider`), so the class registers the same type itself. Each output
 * name is registered as `undefined` under `props`: Pulumi makes such a property an output of the resource,
 * which the provider then fills in.
 *
 * This one constructor is the only one between the program and `pulumi.CustomResource`: the SDK takes the
 * resource's source position from a fixed depth of the constructor stack (node_modules/@pulumi/pulumi/resource.js,
 * `Resource.stackTrace(4)`), so a class per resource on top of a shared base would record this package's file
 * instead of the program's line.
 */
export function resourceClass<A extends pulumi.Inputs, O>(
    kind: ResourceKind,
    props: (name: string, args: A) => pulumi.Inputs = (_, args) => args,
): ResourceClass<A, O> {
    const secrets = new Set(kind.secrets);
    const type = dynamicType(kind.type);
    const providerText = providerModule(providerKind(kind.type));
    const resource = class extends pulumi.CustomResource {
        constructor(name: string, args: A, opts?: pulumi.CustomResourceOptions) {
            const inputs: pulumi.Inputs = Object.fromEntries(kind.outputs.map((k) => [k, undefined]));
            for (const [k, v] of Object.entries(props(name, args))) {
                // Secret inputs are ciphertext in state; the outputs of the same names are marked below.
                inputs[k] = v !== undefined && secrets.has(k) ? pulumi.secret(v) : v;
            }
            inputs.__provider = providerText;
            const options =
                secrets.size > 0 ? pulumi.mergeOptions(opts, { additionalSecretOutputs: [...kind.secrets] }) : opts;
            // The SDK stamps four promises per registered property with `new Error().stack`, for its
            // promise-leak report only (node_modules/@pulumi/pulumi/runtime/debuggable.js, runtime/rpc.js
            // transferProperties); under the program's source-map hook that was most of the program's CPU per
            // resource. Frames are turned off for the synchronous registration only: the source position is
            // unaffected (`Resource.callsites` sets its own limit), and the limit is restored if `super` throws.
            const stackTraceLimit = Error.stackTraceLimit;
            Error.stackTraceLimit = 0;
            try {
                super(type, name, inputs, options);
            } finally {
                Error.stackTraceLimit = stackTraceLimit;
            }
        }
    };
    Object.defineProperty(resource, "name", { value: kind.type });
    return resource as unknown as ResourceClass<A, O>;
}
