import { GraphQLError, getNamedType, typeFromAST, type ValidationRule } from 'graphql';

/**
 * An uploaded file streams past once, so a document may read each Upload variable in one place
 * only. Used twice (`a: uploadFile(file: $f) b: uploadFile(file: $f)`), the first field would
 * commit its file and the second fail on a stream already read: refused while validating, before
 * any resolver runs.
 */
export const singleUseUploads: ValidationRule = (context) => ({
  OperationDefinition(operation) {
    const uses = new Map<string, number>();
    for (const usage of context.getRecursiveVariableUsages(operation)) {
      const name = usage.node.name.value;
      uses.set(name, (uses.get(name) ?? 0) + 1);
    }
    for (const definition of operation.variableDefinitions ?? []) {
      const type = typeFromAST(context.getSchema(), definition.type);
      if (!type || getNamedType(type).name !== 'Upload') continue;
      const name = definition.variable.name.value;
      if ((uses.get(name) ?? 0) > 1) {
        context.reportError(
          new GraphQLError(`The upload $${name} can be used once only in a document.`, {
            nodes: [definition],
          }),
        );
      }
    }
  },
});
