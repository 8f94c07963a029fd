/* depotctl stock: stock across dealers, read from the hub's API. */
#ifndef CTL_STOCK_H
#define CTL_STOCK_H

int ctl_stock_main(int argc, char **argv);

#endif
