console.log("python setup pending")
