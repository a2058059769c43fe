/** Commands of this area of the contract (spread into `commands` by contract.ts). */
export const predictionCommands = {} as const;
