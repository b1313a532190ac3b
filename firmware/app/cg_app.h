/* codegen firmware: the application shared by every board. */
#ifndef CG_APP_H
#define CG_APP_H

/* Initialise the port and the network, print the READY line, then serve the serial protocol forever. */
void cg_app_main(void);

#endif /* CG_APP_H */
