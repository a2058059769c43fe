import { createClient, type Client } from '../../shared/contract.js';
import { createTransport, type HostTransport } from './transport.js';

export const transport: HostTransport = createTransport();
/** The typed client: one method per command of the contract. */
export const client: Client = createClient(transport);
