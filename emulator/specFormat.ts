/**
 * The format of OVH's API v1/v2 schema files (`spec/ovh/*.json`, apiv6 "swagger 1.2"-like), as far as it is
 * read. Only the file format: how a model or route is *read* is each reader's own (emulator/contract.ts here;
 * scripts/gen-api.ts, which generates the provider's wire code, imports these types too, never the reading).
 */
export interface SpecProperty {
    type?: string;
    fullType?: string;
    canBeNull?: boolean;
    required?: boolean;
    readOnly?: boolean;
}

export interface SpecModel {
    enum?: (string | number)[];
    enumType?: string;
    properties?: Record<string, SpecProperty>;
    generics?: string[];
}

export interface SpecParameter {
    name?: string | null;
    paramType: string;
    dataType?: string;
    fullType?: string;
    required?: boolean;
}

export interface SpecOperation {
    httpMethod: string;
    parameters?: SpecParameter[];
    responseType: string;
    errors?: string[];
}

export interface SpecFile {
    basePath: string;
    apis: { path: string; operations: SpecOperation[] }[];
    models: Record<string, SpecModel>;
}
