// Command etcd is upstream etcd's server entry point, built from the same module
// graph as kube-apiserver so that both speak the same etcd API version.
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() {
	etcdmain.Main(os.Args)
}
