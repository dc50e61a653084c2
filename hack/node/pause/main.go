// The sandbox ("pause") process of the node test's pods: sleeps until SIGINT or SIGTERM. A static
// binary in an image of its own (operator/testenv/node.ts), since registry.k8s.io/pause
// cannot be pulled here.
package main

import (
	"os"
	"os/signal"
	"syscall"
)

func main() {
	c := make(chan os.Signal, 1)
	signal.Notify(c, syscall.SIGINT, syscall.SIGTERM)
	<-c
}
