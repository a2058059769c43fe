import { createClient, type Client, type Transport } from '../../shared/contract.js';
import { createTransport } from './transport.js';

export const transport: Transport = createTransport();
/** The typed client: one method per command of the contract. */
export const client: Client = createClient(transport);
